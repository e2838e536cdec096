"""SQL models: dbt_like_sql/<schema>/<table>.sql, one select a file, lineage read from the SQL.

Dependencies are the schema-qualified tables a model reads, found by sqlglot's scope traversal
(CTE names resolve to scopes, not tables, so they are excluded), as sqlmesh's find_tables does.
No ref(), no hand-kept list: a model that names a table nobody builds fails at load time.
The runner wraps each select as `create or replace table` in a transaction and writes the
leading block comment and trailing column comments with COMMENT ON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from kmu_pipeline.catalogue import Catalogue
from kmu_pipeline.schemas import Observations, column_descriptions
from kmu_pipeline.warehouse import replace_table

SQL_DIR = Path(__file__).resolve().parents[1] / "dbt_like_sql"
_LEADING_COMMENT = re.compile(r"^\s*/\*(.*?)\*/", re.S)
OBSERVATIONS = "staging.observations"


class SqlModelError(ValueError):
    """A model that cannot be parsed or reads a table that nothing builds."""


@dataclass(frozen=True)
class SqlModel:
    table: str                       # schema.table
    sql: str
    description: str = ""
    depends_on: tuple[str, ...] = ()
    column_comments: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]


def find_tables(sql: str) -> set[str]:
    """Schema-qualified tables a query reads (CTEs excluded)."""
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    tables = set()
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name:
                tables.add(f"{source.db}.{source.name}" if source.db else source.name)
    return tables


def _column_comments(sql: str) -> dict[str, str]:
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    final = next((cte.this for cte in tree.find_all(exp.CTE) if cte.alias == "final"), tree)
    comments = {}
    for projection in getattr(final, "expressions", []):
        if projection.comments and projection.alias_or_name:
            comments[projection.alias_or_name] = " ".join(c.strip() for c in projection.comments)
    return comments


def model_from_sql(table: str, sql: str, path: Path | None = None) -> SqlModel:
    try:
        depends = find_tables(sql)
        comments = _column_comments(sql)
    except sqlglot.errors.ParseError as exc:
        raise SqlModelError(f"{path or table}: cannot parse: {exc}") from exc
    unqualified = sorted(t for t in depends if "." not in t)
    if unqualified:
        raise SqlModelError(f"{path or table}: tables must be schema-qualified: {unqualified}")
    match = _LEADING_COMMENT.match(sql)
    description = " ".join(match.group(1).split()) if match else ""
    return SqlModel(table=table, sql=sql, description=description,
                    depends_on=tuple(sorted(depends)), column_comments=comments, path=path)


def observations_model(catalogue: Catalogue) -> SqlModel:
    """The union of all raw tables: generated, because its members are the catalogue's."""
    members = "\nunion all by name\n".join(
        f"select * from {ds.table}" for ds in catalogue.datasets)
    sql = (f"/* Every observation of every catalogue dataset, one long table, source kept. */\n"
           f"{members}")
    model = model_from_sql(OBSERVATIONS, sql)
    return replace(model, column_comments=column_descriptions(Observations))


# Raw tables built by code rather than by a catalogue entry.
EXTRA_RAW_TABLES = ("raw.eurostat__codelists", "raw.desi__desi")


def discover_models(catalogue: Catalogue, sql_dir: Path = SQL_DIR) -> list[SqlModel]:
    """All models, checked: every dependency is a raw table or another model."""
    models = [observations_model(catalogue)]
    for path in sorted(Path(sql_dir).glob("*/*.sql")):
        models.append(model_from_sql(f"{path.parent.name}.{path.stem}", path.read_text(), path))
    known = {m.table for m in models} | {ds.table for ds in catalogue.datasets}
    known |= set(EXTRA_RAW_TABLES)
    for model in models:
        unknown = sorted(set(model.depends_on) - known)
        if unknown:
            raise SqlModelError(f"{model.path or model.table}: reads unknown tables {unknown}")
    return models


def run_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """Materialise one model as a table; returns its row count."""
    con.execute(f"create schema if not exists {model.schema}")
    return replace_table(con, model.table, model.sql, description=model.description,
                         column_comments=model.column_comments)

