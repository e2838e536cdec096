"""SQL models: dbt_like_sql/<schema>/<table>.sql, one select a file, lineage read from the SQL.

Dependencies are the schema-qualified tables a model reads, found by sqlglot's scope traversal
(CTE names resolve to scopes, not tables, so they are excluded), as sqlmesh's find_tables does.
No ref(), no hand-kept list: a model that names a table nobody builds fails at load time.
The runner wraps each select as `create or replace table` in a transaction and writes the
leading block comment and trailing column comments with COMMENT ON.

Two models are generated from the catalogue instead: staging.observations, the union of its
observation tables, and staging.sources, its sources with the scope models select them by.

Reference tables (the EU members, the DESI method, the article's figure list) are seeds:
dbt_like_sql/seeds/<table>.csv, loaded as `seeds.<table>` before the models that read them, with
a sidecar <table>.toml giving the table description and each column's type and comment.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from kmu_pipeline.catalogue import SCOPES, Catalogue
from kmu_pipeline.history import HISTORY, ensure_history
from kmu_pipeline.schemas import Observations, column_descriptions
from kmu_pipeline.warehouse import replace_table

SQL_DIR = Path(__file__).resolve().parents[1] / "dbt_like_sql"
SEEDS = "seeds"
_LEADING_COMMENT = re.compile(r"^\s*/\*(.*?)\*/", re.S)
OBSERVATIONS = "staging.observations"
SOURCES = "staging.sources"


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
    # a generated model's values, bound to its SQL's $name parameters when it runs
    parameters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    @property
    def definition(self) -> tuple[str, ...]:
        """What the table is made of: its SQL and the values bound to it."""
        return (self.sql, *(f"{name}={values!r}" for name, values in
                            sorted(self.parameters.items())))


@dataclass(frozen=True)
class Seed:
    table: str                       # seeds.table
    path: Path                       # the CSV
    description: str
    columns: dict[str, str]          # name -> DuckDB type, in the CSV's order
    column_comments: dict[str, str]

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]


def seed_from_files(csv_path: Path) -> Seed:
    """A seed from its CSV and the sidecar TOML beside it; the CSV header must name the
    sidecar's columns in the same order (DuckDB reads the columns by position)."""
    sidecar = csv_path.with_suffix(".toml")
    try:
        spec = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        columns = spec["columns"]
        types = {name: str(c["type"]) for name, c in columns.items()}
        comments = {name: str(c["comment"]) for name, c in columns.items()}
        description = " ".join(str(spec["description"]).split())
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise SqlModelError(f"{sidecar}: needs description and [columns] name = "
                            f"{{ type, comment }}: {exc!r}") from exc
    with open(csv_path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    if header != list(types):
        raise SqlModelError(f"{csv_path}: header {header} is not the columns of {sidecar.name} "
                            f"{list(types)}")
    return Seed(table=f"{SEEDS}.{csv_path.stem}", path=csv_path, description=description,
                columns=types, column_comments=comments)


def discover_seeds(sql_dir: Path = SQL_DIR) -> list[Seed]:
    return [seed_from_files(path) for path in sorted((Path(sql_dir) / SEEDS).glob("*.csv"))]


def load_seed(con: duckdb.DuckDBPyConnection, seed: Seed) -> int:
    """Load one seed as a table with its comments; returns its row count."""
    con.execute(f"create schema if not exists {seed.schema}")
    select = ("select * from read_csv($path, header = true, auto_detect = false, "
              "columns = $columns)")
    return replace_table(con, seed.table, select, {"path": str(seed.path), "columns": seed.columns},
                         description=seed.description, column_comments=seed.column_comments)


def find_tables(sql: str) -> set[str]:
    """Schema-qualified tables a query reads (CTEs excluded)."""
    return set(_parsed(sql)[0])


@lru_cache(maxsize=256)
def _parsed(sql: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The tables a query reads and its final projections' comments, from one sqlglot parse.
    Cached by the query's text: the definitions are built twice a run (the code location and
    the CLI's job), and parsing the models was 1.6 s of that."""
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    tables = set()
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name:
                tables.add(f"{source.db}.{source.name}" if source.db else source.name)
    final = next((cte.this for cte in tree.find_all(exp.CTE) if cte.alias == "final"), tree)
    comments = []
    for projection in getattr(final, "expressions", []):
        if projection.comments and projection.alias_or_name:
            comments.append((projection.alias_or_name,
                             " ".join(c.strip() for c in projection.comments)))
    return frozenset(tables), tuple(comments)


def model_from_sql(table: str, sql: str, path: Path | None = None) -> SqlModel:
    try:
        depends, comment_pairs = _parsed(sql)
    except sqlglot.errors.ParseError as exc:
        raise SqlModelError(f"{path or table}: cannot parse: {exc}") from exc
    unqualified = sorted(t for t in depends if "." not in t)
    if unqualified:
        raise SqlModelError(f"{path or table}: tables must be schema-qualified: {unqualified}")
    match = _LEADING_COMMENT.match(sql)
    description = " ".join(match.group(1).split()) if match else ""
    return SqlModel(table=table, sql=sql, description=description,
                    depends_on=tuple(sorted(depends)), column_comments=dict(comment_pairs),
                    path=path)


def observations_model(catalogue: Catalogue) -> SqlModel:
    """The union of all raw tables: generated, because its members are the catalogue's."""
    members = "\nunion all by name\n".join(
        f"select * from {ds.table}" for ds in catalogue.of_model("observations"))
    sql = (f"/* Every observation of every catalogue dataset, one long table, source kept. */\n"
           f"{members}")
    model = model_from_sql(OBSERVATIONS, sql)
    return replace(model, column_comments=column_descriptions(Observations))


def sources_model(catalogue: Catalogue) -> SqlModel:
    """The catalogue's sources with their scope: generated, so that models select sources by
    the role of their figures and a source's name is spelled in the catalogue only."""
    sources = list(catalogue.sources.values())
    return replace(model_from_sql(SOURCES, _SOURCES_SQL), column_comments=_SOURCES_COLUMNS,
                   parameters={"source": [s.name for s in sources],
                               "agency": [s.agency for s in sources],
                               "scope": [s.scope for s in sources]})


_SOURCES_SQL = """\
/* The catalogue's sources, one row each: the agency charts cite and the scope of its figures.
Models select sources by scope, never by name. */
select
    unnest(cast($source as varchar[])) as source,
    unnest(cast($agency as varchar[])) as agency,
    unnest(cast($scope as varchar[])) as scope
"""
_SOURCES_COLUMNS = {
    "source": "catalogue source, as in every table's source column",
    "agency": "the agency's name as charts cite it",
    "scope": "; ".join(f"{scope}: {covers}" for scope, covers in SCOPES.items()),
}


def discover_models(catalogue: Catalogue, sql_dir: Path = SQL_DIR) -> list[SqlModel]:
    """All models, checked: every dependency is a raw table, a seed or another model."""
    models = [observations_model(catalogue), sources_model(catalogue)]
    for path in sorted(Path(sql_dir).glob("*/*.sql")):
        models.append(model_from_sql(f"{path.parent.name}.{path.stem}", path.read_text(), path))
    known = {m.table for m in models} | {ds.table for ds in catalogue.datasets}
    known |= {seed.table for seed in discover_seeds(sql_dir)} | {HISTORY}
    for model in models:
        unknown = sorted(set(model.depends_on) - known)
        if unknown:
            raise SqlModelError(f"{model.path or model.table}: reads unknown tables {unknown}")
    return [_history_writers(model, catalogue) for model in models]


def _history_writers(model: SqlModel, catalogue: Catalogue) -> SqlModel:
    """history.observations is written by the loads of the observation tables (history.py),
    so a model reading it runs after them: they stand in for it among its dependencies."""
    if HISTORY not in model.depends_on:
        return model
    writers = {ds.table for ds in catalogue.of_model("observations")}
    return replace(model, depends_on=tuple(sorted(set(model.depends_on) - {HISTORY} | writers)))


def run_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """Materialise one model as a table; returns its row count."""
    con.execute(f"create schema if not exists {model.schema}")
    if HISTORY in find_tables(model.sql):  # empty until an observation table's first load
        ensure_history(con)
    return replace_table(con, model.table, model.sql, model.parameters or None,
                         description=model.description, column_comments=model.column_comments)

