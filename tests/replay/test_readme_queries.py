"""The README's example queries run on the demo warehouse and answer with data."""

from __future__ import annotations

import re

import duckdb

from tests.conftest import REPO


def test_readme_sql_examples_run_and_answer(published_demo):
    tmp_path = published_demo[0]  # read only
    # the revisions query needs two releases: tests/replay/test_history.py runs it
    article = (REPO / "README.md").read_text().split("## Revisions")[0]
    blocks = re.findall(r"```sql\n(.*?)```", article, re.S)
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    assert len(statements) == 5
    con = duckdb.connect(str(tmp_path / "kmu.duckdb"), read_only=True)
    results = [con.execute(sql).fetchall() for sql in statements]
    # Destatis vs Eurostat, DE 2020: cloud computing 10-49 is 31 vs 30.62
    assert ("cloud_computing", "10-49", 31.0, 30.62, 0.38) in results[0]
    # cloud by size class over time: DE has 2018, 2020, 2021, 2023 in the demo
    assert [(geo, year) for geo, year, *_ in results[1] if geo == "DE"] == [
        ("DE", 2018), ("DE", 2020), ("DE", 2021), ("DE", 2023)]
    # the article's Fachkräftemangel: 65 % of recruiting SMEs, as published by Destatis
    assert ("genesis", "0-249", 2020, 65.0, True) in results[2]
    # furthest from its target: AI 10-49 (2025, 23.06 %: 51.94 points short of 75, 8th of 27);
    # SMEs' digital intensity 2025: 73.55 %, 16.45 points short of 90, rank 12 of 27
    assert results[3][0] == ("ai", "10-49", 2025, 23.06, 75.0, 51.94, 8, 27)
    assert ("digital_intensity", "10-249", 2025, 73.55, 90.0, 16.45, 12, 27) in results[3]
    # cloud is the Digital Decade KPI E_CC1_SI: small firms 2025 43.20 %, 31.80 short, 12th of
    # 27; micro firms (2023, DE, ES and PT publish 0-9) third; large firms past the target
    assert [r[:2] for r in results[3][:3]] == [("ai", "10-49"), ("ai", "10-249"), ("cloud", "0-9")]
    assert ("cloud", "10-49", 2025, 43.2, 75.0, 31.8, 12, 27) in results[3]
    assert ("cloud", "250+", 2025, 75.69, 75.0, -0.69, 19, 27) in results[3]
    # today's pace: from 2023 (same variable set, 61.38) 6.08 points a year, 3.29 needed: 2028
    (latest,) = results[4]
    assert latest[:8] == (2025, "E_DI3_GELO", 73.55, 2023, 6.08, 3.29, True, 2028)
    assert latest[8].startswith("E_DI4_GELO (2024) -> E_DI3_GELO (2025)")
