"""SQL models: lineage from the SQL, comments, and a model run in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.sql_models import (
    SqlModelError,
    discover_models,
    find_tables,
    model_from_sql,
    run_model,
)

SQL = """/* Cloud by size. */
with observations as (
    select * from staging.observations
),
labels as (select * from staging.stg_eurostat__labels),
final as (
    select o.geo, o.value as cloud_pct  -- share of enterprises, %
    from observations as o join labels as l on l.code = o.geo
)
select * from final
"""


def test_dependencies_come_from_the_sql_and_ctes_are_not_tables():
    assert find_tables(SQL) == {"staging.observations", "staging.stg_eurostat__labels"}
    model = model_from_sql("marts.cloud", SQL)
    assert model.description == "Cloud by size."
    assert model.column_comments == {"cloud_pct": "share of enterprises, %"}


def test_unqualified_and_unknown_tables_fail(tmp_path):
    with pytest.raises(SqlModelError, match="schema-qualified"):
        model_from_sql("marts.x", "select * from observations")
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "x.sql").write_text("select * from staging.nothing_builds_this")
    with pytest.raises(SqlModelError, match=r"unknown tables \['staging.nothing_builds_this'\]"):
        discover_models(load_catalogue(), tmp_path)


def test_run_model_creates_table_with_comments():
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute("create table staging.observations as select 'DE' as geo, 30.6 as value")
    con.execute("create table staging.stg_eurostat__labels as select 'DE' as code")
    assert run_model(con, model_from_sql("marts.cloud", SQL)) == 1
    assert con.execute("select comment from duckdb_tables() where table_name = 'cloud'"
                       ).fetchone() == ("Cloud by size.",)
    assert con.execute("select comment from duckdb_columns() where table_name = 'cloud' "
                       "and column_name = 'cloud_pct'").fetchone() == ("share of enterprises, %",)
