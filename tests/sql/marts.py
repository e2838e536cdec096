"""A throwaway warehouse for one mart: staging.observations with the columns a test needs, its
rows, and the project's models run on it by the project's runner."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

from kmu_pipeline.sql_models import SQL_DIR, model_from_sql, run_model


def mart_warehouse(columns: str, insert: str, rows: Iterable[Sequence],
                   models: Sequence[str]) -> duckdb.DuckDBPyConnection:
    """`columns`: the column definitions of staging.observations; `insert`: the statement that
    takes each of `rows`; `models`: schema.table names under dbt_like_sql/, run in order."""
    con = duckdb.connect()
    for schema in ("staging", "marts"):
        con.execute(f"create schema {schema}")
    con.execute(f"create table staging.observations ({columns})")
    con.executemany(insert, rows)
    for table in models:
        sql = (SQL_DIR / f"{table.replace('.', '/')}.sql").read_text()
        run_model(con, model_from_sql(table, sql))
    return con
