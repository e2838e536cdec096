"""`kmu-pipeline run` leaves a data dictionary of the published warehouse beside it."""

from __future__ import annotations

import duckdb
import pytest

from kmu_pipeline.data_dictionary import missing_comments


@pytest.fixture
def demo_run(readme_run):
    return readme_run[0]  # the README's first command (tests/conftest.py)


def test_run_writes_data_dictionary_listing_every_table(demo_run):
    tmp_path = demo_run
    db = tmp_path / "data" / "kmu.duckdb"
    text = (tmp_path / "data" / "data_dictionary.md").read_text(encoding="utf-8")
    con = duckdb.connect(str(db), read_only=True)
    tables = con.execute("select schema_name || '.' || table_name, comment from duckdb_tables() "
                         "order by 1").fetchall()
    con.close()
    assert len(tables) >= 20
    for table, comment in tables:
        assert f"## {table}\n" in text, table
        if comment:
            assert " ".join(comment.split())[:60] in text, table
    assert "| value | DOUBLE |" in text


def test_demo_warehouse_every_table_and_column_has_a_comment(demo_run):
    """Flags tables/columns of the demo run that lack a description (COMMENT ON)."""
    missing = missing_comments(demo_run / "data" / "kmu.duckdb")
    assert not missing, "no comment on: " + ", ".join(missing)
