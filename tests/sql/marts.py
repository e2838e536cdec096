"""A throwaway warehouse for one mart: staging.observations with the columns a test needs, its
rows, the seeds, staging.sources of a catalogue, and the project's models run on it by the
project's runner."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

from kmu_pipeline.catalogue import Catalogue, load_catalogue
from kmu_pipeline.sql_models import (
    SQL_DIR,
    discover_seeds,
    load_seed,
    model_from_sql,
    run_model,
    sources_model,
)


def mart_warehouse(columns: str, insert: str, rows: Iterable[Sequence],
                   models: Sequence[str],
                   catalogue: Catalogue | None = None) -> duckdb.DuckDBPyConnection:
    """`columns`: the column definitions of staging.observations; `insert`: the statement that
    takes each of `rows`; `models`: schema.table names under dbt_like_sql/, run in order, each
    after the models it reads (as Dagster orders them); `catalogue`: whose sources
    staging.sources lists (the project's by default)."""
    con = duckdb.connect()
    for schema in ("staging", "marts"):
        con.execute(f"create schema {schema}")
    con.execute(f"create table staging.observations ({columns})")
    con.executemany(insert, rows)
    run_model(con, sources_model(catalogue or load_catalogue()))
    for seed in discover_seeds():
        load_seed(con, seed)
    for table in models:
        _run_with_upstream(con, table)
    return con


def _run_with_upstream(con: duckdb.DuckDBPyConnection, table: str) -> None:
    path = SQL_DIR / f"{table.replace('.', '/')}.sql"
    model = model_from_sql(table, path.read_text())
    for upstream in model.depends_on:
        if (SQL_DIR / f"{upstream.replace('.', '/')}.sql").exists():
            _run_with_upstream(con, upstream)
    run_model(con, model)
