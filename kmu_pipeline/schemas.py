"""pandera models, one per table shape: validation, asset checks and DuckDB comments.

The same model validates each parsed chunk during ingest, drives the Dagster asset checks and
supplies the column descriptions written with COMMENT ON.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from kmu_pipeline.catalogue import SIZE_CLASSES, load_catalogue

SOURCES = ("eurostat", "genesis", "desi")
UNITS = (
    "pct_enterprises", "pct_employed", "pct_recruiting_enterprises", "enterprises_count",
    "persons_employed_count",
)
# Eurostat geo codes: countries (DE, EL, ...) and aggregates (EU27_2020, EU28, EA19, ...).
GEO_PATTERN = r"^(?:[A-Z]{2}|(?:EU|EA|EEA|EFTA)\d{0,2}(?:_\d{4})?)$"
OBSERVATION_KEY = ["source", "dataset", "indicator", "size_class", "nace", "geo", "unit", "year"]


def harmonised_indicators() -> list[str]:
    """Every indicator name the catalogue maps to (the allowed vocabulary)."""
    names = {v for ds in load_catalogue().datasets for v in ds.indicators.values()}
    return sorted(names)


class Observations(pa.DataFrameModel):
    """Tidy observations: one row per source, dataset, indicator, size class, NACE, geo, year."""

    source: Series[str] = pa.Field(isin=SOURCES, description="Agency the value came from")
    dataset: Series[str] = pa.Field(description="Catalogue dataset name (source's table code)")
    indicator: Series[str] = pa.Field(
        isin=harmonised_indicators(), description="Harmonised indicator name"
    )
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


def column_descriptions(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column -> description, for COMMENT ON COLUMN."""
    return {name: col.description or "" for name, col in model.to_schema().columns.items()}
