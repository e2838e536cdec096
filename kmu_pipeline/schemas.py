"""pandera models, one per table shape: validation, DDL, asset checks and DuckDB comments.

Each raw table's catalogue entry names its model (TABLE_MODELS). The same model creates the
table a load writes into (create_table: DuckDB types from the model's dtypes), validates it
(validation.validate_table, also behind the Dagster asset checks) and supplies the column
descriptions written with COMMENT ON and into the data dictionary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from kmu_pipeline.catalogue import SIZE_CLASSES, Dataset

UNITS = (
    "pct_enterprises", "pct_employed", "pct_recruiting_enterprises", "enterprises_count",
    "persons_employed_count",
)
# Eurostat geo codes: countries (DE, EL, ...) and aggregates (EU27_2020, EU28, EA19, ...).
GEO_PATTERN = r"^(?:[A-Z]{2}|(?:EU|EA|EEA|EFTA)\d{0,2}(?:_\d{4})?)$"
FINITE_BOUND = 1e15  # beyond any count or share the agencies publish; infinity is refused
OBSERVATION_KEY = ["source", "dataset", "indicator", "size_class", "nace", "geo", "unit", "year"]


class Observations(pa.DataFrameModel):
    """Tidy observations: one row per source, dataset, indicator, size class, NACE, geo, year."""

    # source and indicator need no vocabulary check here: a load writes the entry's source and
    # only indicators its code map names (an unmapped code is NULL and fails not-nullable)
    source: Series[str] = pa.Field(
        description="Catalogue source the value came from: eurostat or genesis (Destatis); "
                    "in a raw table, the table's own (a generated column: stored once)")
    dataset: Series[str] = pa.Field(
        description="Catalogue dataset name (source's table code); in a raw table, the "
                    "table's own (a generated column: stored once)")
    indicator: Series[str] = pa.Field(description="Harmonised indicator name (catalogue maps)")
    indicator_code: Series[str] = pa.Field(description="The source's own indicator code")
    size_class: Series[str] = pa.Field(
        isin=SIZE_CLASSES, description="Enterprise size class by persons employed"
    )
    nace: Series[str] = pa.Field(description="Economic activity (NACE Rev. 2 / WZ 2008) code")
    geo: Series[str] = pa.Field(str_matches=GEO_PATTERN, description="Eurostat geo code")
    unit: Series[str] = pa.Field(isin=UNITS, description="Harmonised unit of value")
    year: Series[int] = pa.Field(ge=1990, le=2100, description="Reference year of the survey")
    # finite: an overflowing number (1e400) reads as infinity, which no agency publishes
    value: Series[float] = pa.Field(nullable=True, ge=0, le=FINITE_BOUND,
                                    description="Observed value")
    flag: Series[str] = pa.Field(
        nullable=True, str_length={"max_value": 8},
        description="Source's observation flag, verbatim "
                    "(Eurostat b/c/e/p/u/z/:, GENESIS e/./-/x//)",
    )
    conf_status: Series[str] = pa.Field(
        nullable=True, str_length={"max_value": 8},
        description="Eurostat's confidentiality status (SDMX-CSV CONF_STATUS, SDMX-ML "
                    "attribute), verbatim: C = confidential (no value published); null when "
                    "the value is not confidential or the source has no such field (GENESIS)",
    )
    last_update: Series[str] = pa.Field(nullable=True, description="Source's last update stamp")
    request_id: Series[str] = pa.Field(
        str_length={"min_value": 16, "max_value": 16},
        description="Landing id of the request that delivered the row (data/raw/.../*-<id>)",
    )

    @pa.dataframe_check(description="Percentages lie in [0, 100]")
    @classmethod
    def percentages_at_most_100(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["unit"].str.startswith("pct_") & (df["value"] > 100))

    @pa.dataframe_check(description="A missing value carries a flag or a confidentiality "
                                     "status that explains it")
    @classmethod
    def missing_value_is_flagged(cls, df: pd.DataFrame) -> Series[bool]:
        return df["value"].notna() | df["flag"].notna() | df["conf_status"].notna()

    class Config:
        strict = True
        coerce = True
        unique = OBSERVATION_KEY
        # what the dataframe checks above read: validation.validate_table checks their distinct
        # combinations (tests/unit/test_validation.py fails a check that reads anything else)
        # column -> the catalogue entry's field that is its value on every row of the entry's
        # raw table (create_table: a generated column, so no load writes 500k copies of one
        # string: ~10% of an SDMX-CSV load, bench/RESULTS.md)
        metadata = {"row_check_columns": ["unit", "value", "flag", "conf_status"],
                    "per_table": {"source": "source", "dataset": "name"}}


OBSERVATION_COLUMNS = list(Observations.to_schema().columns)


class LabelRows(pa.DataFrameModel):
    """Codelists: one English and German label per codelist and code."""

    codelist: Series[str] = pa.Field(description="Eurostat codelist id (GEO, SIZE_EMP, ...)")
    code: Series[str] = pa.Field(description="Code as it appears in the data")
    label_en: Series[str] = pa.Field(nullable=True, description="English label")
    label_de: Series[str] = pa.Field(nullable=True,
                                     description="German label where Eurostat has one")
    request_id: Series[str] = pa.Field(str_length={"min_value": 16, "max_value": 16},
                                       description="Landing id of the structure response")

    class Config:
        strict = True
        coerce = True
        unique = ["codelist", "code"]


class DesiRows(pa.DataFrameModel):
    """DESI as delivered: one value per year, country, indicator, breakdown and unit."""

    time_period: Series[int] = pa.Field(ge=2010, le=2100, description="DESI edition year")
    ref_area: Series[str] = pa.Field(str_matches=r"^[A-Z]{2}$",
                                     description="Country code (EU = EU aggregate)")
    indicator: Series[str] = pa.Field(str_matches=r"^desi", description="DESI indicator id")
    breakdown: Series[str] = pa.Field(description="Breakdown, or the child of a weighted score")
    unit_measure: Series[str] = pa.Field(
        description="Unit: pc_desi_sliders (dimension score 0-100), egov_score (weighted "
                    "contribution), pc_ent/pc_turn (raw share, 0-1), ...")
    value: Series[float] = pa.Field(nullable=True, in_range={"min_value": -FINITE_BOUND,
                                                             "max_value": FINITE_BOUND},
                                    description="Value in unit_measure (finite)")
    flag: Series[str] = pa.Field(nullable=True, description="Source flag, verbatim")
    request_id: Series[str] = pa.Field(str_length={"min_value": 16, "max_value": 16},
                                       description="Landing id of the download")

    class Config:
        strict = True
        coerce = True
        unique = ["time_period", "ref_area", "indicator", "breakdown", "unit_measure"]


class DatasetStatus(pa.DataFrameModel):
    """meta.dataset_status: how fresh each raw table is and what its last refresh found."""

    dataset: Series[str] = pa.Field(description="Raw table, e.g. raw.eurostat__isoc_cicce_use")
    status: Series[str] = pa.Field(
        isin=["ok", "stale", "no_data", "skipped"],
        description="ok; stale (the last refresh failed, the last good data kept); no_data (the "
                    "agency said the key has none); skipped (not asked: no credentials)")
    checked: Series[str] = pa.Field(
        nullable=True, isin=["changed", "unchanged_upstream", "unchanged_bytes", "not_checked"],
        description="What the last refresh found upstream (the last that published: a run "
                    "that changes nothing publishes nothing): changed (new data loaded); "
                    "unchanged_upstream (the agency's last-update stamp was the one already "
                    "loaded, so no data was asked); unchanged_bytes (asked, the same bytes came); "
                    "not_checked (the refresh failed or was skipped before the agency answered)")
    upstream_updated: Series[str] = pa.Field(
        nullable=True, description="The agency's last-update stamp of the data loaded, verbatim "
                                   "(Eurostat UPDATE_DATA, GENESIS Updated); null when it states "
                                   "none (DESI download, codelists)")
    rows: Series[int] = pa.Field(nullable=True, description="Rows in the raw table")
    request_ids: Series[str] = pa.Field(nullable=True,
                                        description="Landing request ids of the responses loaded")
    urls: Series[str] = pa.Field(nullable=True, description="Request URLs of the responses loaded")
    sha256: Series[str] = pa.Field(nullable=True,
                                   description="Bodies' SHA-256, then |entry: entry digest")
    last_success_at: Series[pd.Timestamp] = pa.Field(nullable=True,
                                                     description="Last successful refresh")
    last_attempt_at: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="When a refresh was last attempted (by a run that published)")
    last_checked_at: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="When the agency last answered for it (checked above), in a "
                                   "run that published")
    error: Series[str] = pa.Field(nullable=True,
                                  description="Why the last attempt failed or was skipped "
                                              "(empty when ok)")

    class Config:
        metadata = {"primary_key": "dataset"}


class RequestRows(pa.DataFrameModel):
    """meta.requests: every upstream response loaded: URL, time, checksum."""

    request_id: Series[str] = pa.Field(description="Landing request id (hash of the request)")
    dataset: Series[str] = pa.Field(nullable=True,
                                    description="Raw table the request's rows went to")
    url: Series[str] = pa.Field(nullable=True, description="Request URL")
    retrieved_at: Series[str] = pa.Field(nullable=True,
                                         description="When the response arrived (UTC, ISO 8601)")
    sha256: Series[str] = pa.Field(nullable=True,
                                   description="SHA-256 of the response body as received")
    content_type: Series[str] = pa.Field(nullable=True, description="Content-Type of the response")
    last_modified: Series[str] = pa.Field(nullable=True,
                                          description="Last-Modified header, if any")

    class Config:
        metadata = {"primary_key": "request_id"}


class RunRows(pa.DataFrameModel):
    """meta.runs: published runs: run id, time and the tables published."""

    run_id: Series[str] = pa.Field(description="Dagster run id")
    published_at: Series[pd.Timestamp] = pa.Field(nullable=True,
                                                  description="When the run was published")
    tables: Series[str] = pa.Field(nullable=True,
                                   description="Comma-separated tables in the published warehouse")

    class Config:
        metadata = {"primary_key": "run_id"}


# The pipeline's own bookkeeping tables, created and widened by warehouse.ensure_layout.
META_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "meta.dataset_status": DatasetStatus, "meta.requests": RequestRows, "meta.runs": RunRows}

# The catalogue's `model` key -> the table shape.
TABLE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "observations": Observations, "labels": LabelRows, "desi": DesiRows}


def model_of(name: str) -> type[pa.DataFrameModel]:
    try:
        return TABLE_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown table model {name!r}; schemas.TABLE_MODELS has "
                       f"{sorted(TABLE_MODELS)}") from None


def column_descriptions(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column -> description, for COMMENT ON COLUMN."""
    return {name: col.description or "" for name, col in model.to_schema().columns.items()}


def duckdb_type(dtype) -> str:
    """The DuckDB type a model column is stored as (loads write int64, float64, strings)."""
    kind = str(dtype).lower()
    if kind.startswith("int"):
        return "BIGINT"
    if kind.startswith("float"):
        return "DOUBLE"
    if kind.startswith("datetime"):
        return "TIMESTAMP"
    return "VARCHAR"


def column_types(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column -> DuckDB type, the model's primary key (Config metadata) marked as such."""
    key = _primary_key(model)
    return {name: duckdb_type(col.dtype) + (" primary key" if name == key else "")
            for name, col in model.to_schema().columns.items()}


def _primary_key(model: type[pa.DataFrameModel]) -> str | None:
    return model_metadata(model).get("primary_key")


def model_metadata(model: type[pa.DataFrameModel]) -> dict:
    """The model's Config.metadata (pandera keeps it on the model, not on the schema)."""
    return getattr(model.Config, "metadata", None) or {}


def create_table(con: duckdb.DuckDBPyConnection, table: str, model: type[pa.DataFrameModel],
                 replace: bool = True, entry: Dataset | None = None) -> None:
    """An empty table of the model's columns; replace=False keeps an existing one.

    The table of one catalogue `entry` defines the columns the model fills from the entry
    (Config metadata `per_table`, e.g. source and dataset) as generated columns of the entry's
    values: every row reads them, no load writes them (written_columns)."""
    constants = ({column: getattr(entry, field)
                  for column, field in model_metadata(model).get("per_table", {}).items()}
                 if entry is not None else {})
    columns = ", ".join(
        f"{name} {kind} generated always as ({_literal(constants[name])}) virtual"
        if name in constants else f"{name} {kind}" for name, kind in column_types(model).items())
    if replace:
        con.execute(f"create or replace table {table} ({columns})")
    else:
        con.execute(f"create table if not exists {table} ({columns})")


def comment_table(con: duckdb.DuckDBPyConnection, table: str, description: str,
                  column_comments: Mapping[str, str], kind: str = "table") -> None:
    """Comment a table (or, kind "view", a view) and its columns."""
    # COMMENT ON takes only literals, so values go through a quoted literal, never raw text.
    statements = [f"comment on {kind} {table} is {_literal(description)}"] if description else []
    existing = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    statements += [f'comment on column {table}."{column}" is {_literal(text)}'
                   for column, text in column_comments.items() if text and column in existing]
    if statements:  # one call: a statement each cost a round trip (35 of them for the history)
        con.execute(";\n".join(statements))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Catalogue look-ups go through information_schema, not duckdb_tables(): that one sizes every
# table first (~5 ms on a connection's first call, most of an existence check on a refresh
# that loads nothing). A name without a schema is in the connection's current one.
_IN_THIS_DATABASE = ("table_catalog = current_database() "
                     "and table_schema = coalesce(nullif($schema, ''), current_schema())")


def described_columns(con: duckdb.DuckDBPyConnection,
                      table: str) -> list[tuple[str, str, str | None]]:
    """(name, type, comment) of each column of `table` (schema.table), in order: what the
    data dictionary, the UI's column schema and a table's fingerprint show of it."""
    schema, _, name = table.rpartition(".")
    return con.execute("select column_name, data_type, comment from duckdb_columns() "
                       "where schema_name = ? and table_name = ? order by column_index",
                       [schema or "main", name]).fetchall()


def relation_kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None for a table or view name in the connection's database."""
    schema, _, table = name.rpartition(".")
    rows = con.execute(f"select table_type from information_schema.tables where "
                       f"{_IN_THIS_DATABASE} and table_name = $table",
                       {"schema": schema, "table": table}).fetchall()  # all: no open result
    return rows[0][0] if rows else None


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the connection's database (not its views or temp tables), as
    schema.table, sorted."""
    return [name for (name,) in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables where "
        "table_catalog = current_database() and table_type = 'BASE TABLE' order by 1"
    ).fetchall()]


def written_columns(con: duckdb.DuckDBPyConnection, table: str,
                    columns: Iterable[str]) -> list[str]:
    """Of `columns`, in their order, those a load writes into `table`: all but the table's
    generated ones (a raw table's source and dataset, create_table)."""
    schema, _, name = table.rpartition(".")
    generated = {c for (c,) in con.execute(
        f"select column_name from information_schema.columns where {_IN_THIS_DATABASE} "
        f"and table_name = $table and is_generated = 'ALWAYS'",
        {"schema": schema, "table": name}).fetchall()}
    return [c for c in columns if c not in generated]
