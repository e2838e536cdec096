"""Definition and materialisation metadata shared by the assets: owners, code versions, row
counts, preview, columns."""

import hashlib

import duckdb
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from kmu_pipeline.schemas import described_columns

PREVIEW_ROWS = 10
OWNERS = ["team:kmu-pipeline"]  # who answers for the pipeline's tables and charts


def code_version(*parts: str) -> str:
    """A short digest of what defines an asset (its SQL, seed files, catalogue entry): Dagster
    marks downstream assets as changed when it moves."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    # ordered, so two materialisations of the same data preview the same rows
    preview = con.execute(f"select * from {table} order by all limit {PREVIEW_ROWS}")
    names = [d[0] for d in preview.description]
    records = [TableRecord({n: _cell(v) for n, v in zip(names, row, strict=True)})
               for row in preview.fetchall()]
    columns = described_columns(con, table)
    return {
        "dagster/row_count": MetadataValue.int(int(rows)),
        "table": MetadataValue.text(table),
        "preview": MetadataValue.table(records, schema=TableSchema(
            columns=[TableColumn(name=n, type="string") for n in names])) if records
        else MetadataValue.text("(empty)"),
        "dagster/column_schema": MetadataValue.table_schema(TableSchema(columns=[
            TableColumn(name=name, type=dtype, description=comment or None)
            for name, dtype, comment in columns])),
    }


def _cell(value) -> str | int | float | bool:
    """A preview cell as the UI's table shows it: NULL empty, numbers and booleans as they are,
    anything else (dates, decimals, lists) as text."""
    if value is None:
        return ""
    return value if isinstance(value, (str, int, float, bool)) else str(value)
