"""Materialisation metadata shared by the raw and SQL assets (row counts, preview, columns)."""


import duckdb
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 10


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    preview = con.execute(f"select * from {table} limit {PREVIEW_ROWS}").fetchdf()
    columns = con.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where schema_name || '.' || table_name = ? order by column_index", [table]).fetchall()
    return {
        "dagster/row_count": MetadataValue.int(int(rows)),
        "table": MetadataValue.text(table),
        "preview": MetadataValue.md(
            preview.to_markdown(index=False) if len(preview) else "(empty)"),
        "dagster/column_schema": MetadataValue.table_schema(TableSchema(columns=[
            TableColumn(name=name, type=dtype, description=comment or None)
            for name, dtype, comment in columns])),
    }
