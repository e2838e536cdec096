"""The README's example queries run on the demo warehouse and answer with data."""

from __future__ import annotations

import re

import duckdb

from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.conftest import REPO
from tests.replay.conftest import materialize_all


def test_readme_sql_examples_run_and_answer(tmp_path):
    assert materialize_all(DEMO_SNAPSHOT, tmp_path).success
    blocks = re.findall(r"```sql\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    assert len(statements) == 3
    con = duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True)
    results = [con.execute(sql).fetchall() for sql in statements]
    # Destatis vs Eurostat, DE 2020: cloud computing 10-49 is 31 vs 30.62
    assert ("cloud_computing", "10-49", 31.0, 30.62, 0.38) in results[0]
    # cloud by size class over time: DE has 2018, 2020, 2021, 2023 in the demo
    assert [(geo, year) for geo, year, *_ in results[1] if geo == "DE"] == [
        ("DE", 2018), ("DE", 2020), ("DE", 2021), ("DE", 2023)]
    # the article's Fachkräftemangel: 65 % of recruiting SMEs, as published by Destatis
    assert ("genesis", "0-249", 2020, 65.0, True) in results[2]
