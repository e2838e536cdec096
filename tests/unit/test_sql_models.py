"""SQL models: lineage from the SQL, comments, and a model run in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from kmu_pipeline.catalogue import load_catalogue, parse_catalogue
from kmu_pipeline.sql_models import (
    SOURCES,
    SqlModelError,
    discover_models,
    discover_seeds,
    find_tables,
    load_seed,
    model_from_sql,
    run_model,
    seed_from_files,
    sources_model,
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


def test_staging_sources_is_the_catalogues_sources_with_their_scope():
    catalogue = parse_catalogue(
        '[sources.o_brien]\nbase_url = "http://x"\nbase_url_env = "X"\nscope = "national"\n'
        "agency = \"O'Brien's office\"\n")
    model = sources_model(catalogue)
    assert model.table == SOURCES and model.depends_on == ()  # reads no table: built every run
    con = duckdb.connect()
    con.execute("create schema staging")
    assert run_model(con, model) == 1
    # values are bound as parameters, never spliced into the SQL
    assert con.execute(f"select * from {SOURCES}").fetchall() == [
        ("o_brien", "O'Brien's office", "national")]
    assert "o_brien" not in model.sql and "o_brien" in " ".join(model.definition)
    comments = con.execute("select count(*) from duckdb_columns() where table_name = 'sources' "
                           "and coalesce(comment, '') <> ''").fetchone()[0]
    assert comments == 3 and model.description


SIDECAR = """description = "Weights."
[columns]
code = { type = "varchar", comment = "the code" }
weight = { type = "double", comment = "its weight" }
"""


def _seed_dir(tmp_path, header: str = "code,weight"):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "weights.csv").write_text(f"{header}\n007,0.5\n\"a,b\",2\n")
    (tmp_path / "seeds" / "weights.toml").write_text(SIDECAR)
    return tmp_path


def test_a_seed_loads_typed_with_its_comments_and_models_may_read_it(tmp_path):
    sql_dir = _seed_dir(tmp_path)
    (seed,) = discover_seeds(sql_dir)
    con = duckdb.connect()
    assert seed.table == "seeds.weights" and load_seed(con, seed) == 2
    # declared types: the leading zero of a code survives, quoted commas stay in the field
    assert con.execute("select * from seeds.weights order by 1").fetchall() == [
        ("007", 0.5), ("a,b", 2.0)]
    assert con.execute("select column_name, comment from duckdb_columns() "
                       "where table_name = 'weights' order by column_index").fetchall() == [
        ("code", "the code"), ("weight", "its weight")]
    (sql_dir / "marts").mkdir()
    (sql_dir / "marts" / "x.sql").write_text("select * from seeds.weights")
    assert "seeds.weights" in next(m for m in discover_models(load_catalogue(), sql_dir)
                                   if m.table == "marts.x").depends_on


def test_a_seed_whose_header_differs_from_its_sidecar_fails(tmp_path):
    sql_dir = _seed_dir(tmp_path, header="weight,code")
    with pytest.raises(SqlModelError, match=r"header \['weight', 'code'\] is not the columns"):
        seed_from_files(sql_dir / "seeds" / "weights.csv")
