"""A Markdown data dictionary of a warehouse file, from DuckDB's own catalogue and comments."""

from __future__ import annotations

from pathlib import Path

import duckdb

from kmu_pipeline.schemas import described_columns
from kmu_pipeline.warehouse import RELATIONS

_TABLES = f"select schema_name, name, comment from ({RELATIONS}) order by schema_name, name"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def render(path: Path | str) -> str:
    """Markdown listing every table and view with its comment and every column's type and
    comment."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        lines = ["# Data dictionary", "",
                 f"Generated from `{Path(path).name}` by `kmu-pipeline docs`.", ""]
        for schema, table, comment in con.execute(_TABLES).fetchall():
            lines += [f"## {schema}.{table}", "", _cell(comment) or "_(no description)_", "",
                      "| column | type | description |", "|---|---|---|"]
            for name, dtype, col_comment in described_columns(con, f"{schema}.{table}"):
                lines.append(f"| {name} | {dtype} | {_cell(col_comment)} |")
            lines.append("")
        return "\n".join(lines)
    finally:
        con.close()


def missing_comments(path: Path | str) -> list[str]:
    """schema.table and schema.table.column names that have no comment."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(f"select schema_name || '.' || name from ({RELATIONS}) "
                             f"where coalesce(comment, '') = '' order by 1").fetchall()
        columns = con.execute("select schema_name || '.' || table_name || '.' || column_name "
                              "from duckdb_columns() where not internal "
                              "and coalesce(comment, '') = '' order by 1").fetchall()
    finally:
        con.close()
    return [r[0] for r in tables + columns]


def write(warehouse: Path | str, output: Path | str) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(warehouse), encoding="utf-8")
    return output
