"""pandera models, one per table shape: validation, DDL, asset checks and DuckDB comments.

Each raw table's catalogue entry names its model (TABLE_MODELS). The same model creates the
table a load writes into (create_table: DuckDB types from the model's dtypes), validates it
(validation.validate_table, also behind the Dagster asset checks) and supplies the column
descriptions written with COMMENT ON and into the data dictionary.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from kmu_pipeline.catalogue import SIZE_CLASSES

UNITS = (
    "pct_enterprises", "pct_employed", "pct_recruiting_enterprises", "enterprises_count",
    "persons_employed_count",
)
# Eurostat geo codes: countries (DE, EL, ...) and aggregates (EU27_2020, EU28, EA19, ...).
GEO_PATTERN = r"^(?:[A-Z]{2}|(?:EU|EA|EEA|EFTA)\d{0,2}(?:_\d{4})?)$"
OBSERVATION_KEY = ["source", "dataset", "indicator", "size_class", "nace", "geo", "unit", "year"]


class Observations(pa.DataFrameModel):
    """Tidy observations: one row per source, dataset, indicator, size class, NACE, geo, year."""

    # source and indicator need no vocabulary check here: a load writes the entry's source and
    # only indicators its code map names (an unmapped code is NULL and fails not-nullable)
    source: Series[str] = pa.Field(
        description="Catalogue source the value came from: eurostat or genesis (Destatis)")
    dataset: Series[str] = pa.Field(description="Catalogue dataset name (source's table code)")
    indicator: Series[str] = pa.Field(description="Harmonised indicator name (catalogue maps)")
    indicator_code: Series[str] = pa.Field(description="The source's own indicator code")
    size_class: Series[str] = pa.Field(
        isin=SIZE_CLASSES, description="Enterprise size class by persons employed"
    )
    nace: Series[str] = pa.Field(description="Economic activity (NACE Rev. 2 / WZ 2008) code")
    geo: Series[str] = pa.Field(str_matches=GEO_PATTERN, description="Eurostat geo code")
    unit: Series[str] = pa.Field(isin=UNITS, description="Harmonised unit of value")
    year: Series[int] = pa.Field(ge=1990, le=2100, description="Reference year of the survey")
    value: Series[float] = pa.Field(nullable=True, ge=0, description="Observed value")
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
        metadata = {"row_check_columns": ["unit", "value", "flag", "conf_status"]}


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
    value: Series[float] = pa.Field(nullable=True, description="Value in unit_measure")
    flag: Series[str] = pa.Field(nullable=True, description="Source flag, verbatim")
    request_id: Series[str] = pa.Field(str_length={"min_value": 16, "max_value": 16},
                                       description="Landing id of the download")

    class Config:
        strict = True
        coerce = True
        unique = ["time_period", "ref_area", "indicator", "breakdown", "unit_measure"]


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
    return "VARCHAR"


def create_table(con: duckdb.DuckDBPyConnection, table: str, model: type[pa.DataFrameModel],
                 replace: bool = True) -> None:
    """An empty table of the model's columns; replace=False keeps an existing one."""
    columns = ", ".join(f"{name} {duckdb_type(col.dtype)}"
                        for name, col in model.to_schema().columns.items())
    if replace:
        con.execute(f"create or replace table {table} ({columns})")
    else:
        con.execute(f"create table if not exists {table} ({columns})")
