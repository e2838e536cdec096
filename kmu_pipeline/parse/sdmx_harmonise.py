"""Map Eurostat's native columns to the tidy observation frame, in DuckDB, one pass.

Both SDMX-CSV (streamed by DuckDB's CSV reader) and SDMX-ML (streamed by lxml) arrive here as a
relation named `native` with Eurostat's column names; one SQL statement joins the catalogue's
code maps and casts. Left joins keep unmapped codes visible as NULLs so that drift is reported
by name instead of silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import SchemaError
from kmu_pipeline.landing import Landed

HARMONISE_SQL = """
select
    'eurostat' as source,
    $dataset as dataset,
    ind.target as indicator,
    n.indic_is as indicator_code,
    sz.target as size_class,
    {nace} as nace,
    n.geo as geo,
    un.target as unit,
    try_cast(n.TIME_PERIOD as integer) as year,
    try_cast(n.OBS_VALUE as double) as value,
    nullif(trim({flag}), '') as flag,
    {last_update} as last_update,
    $request_id as request_id,
    n.indic_is as _indic_is,
    n.size_emp as _size_emp,
    n.unit as _unit,
    n.TIME_PERIOD as _time_period,
    n.OBS_VALUE as _obs_value
from native as n
left join indicator_map as ind on ind.code = n.indic_is
left join size_map as sz on sz.code = n.size_emp
left join unit_map as un on un.code = n.unit
"""

_CHECKS = (
    ("indicator", "_indic_is", "unknown indic_is codes"),
    ("size_class", "_size_emp", "unknown size_emp codes"),
    ("unit", "_unit", "unknown unit codes"),
    ("year", "_time_period", "TIME_PERIOD values that are not years"),
)
OBSERVATION_SELECT = (
    "source, dataset, indicator, indicator_code, size_class, nace, geo, unit, year, value, flag,"
    " last_update, request_id"
)


def register_maps(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """The catalogue's code maps as small relations the harmonising SQL joins."""
    for name, mapping in (("indicator_map", dataset.indicators), ("size_map", dataset.size_classes),
                          ("unit_map", dataset.units)):
        frame = pd.DataFrame({"code": list(mapping), "target": list(mapping.values())},
                             dtype="string")
        con.register(name, frame)


def harmonise_sql(columns: list[str]) -> str:
    """The harmonising query for a native relation with these columns."""
    nace = "n.nace_r2" if "nace_r2" in columns else "'TOTAL'"
    flag = "n.OBS_FLAG" if "OBS_FLAG" in columns else "null"
    last_update = 'n."LAST UPDATE"' if "LAST UPDATE" in columns else "null"
    return HARMONISE_SQL.format(nace=nace, flag=flag, last_update=last_update)


def checked_chunks(reader: duckdb.DuckDBPyConnection | object, dataset: Dataset,
                   landed: Landed) -> Iterator[pd.DataFrame]:
    """Arrow batches -> tidy pandas chunks, raising on unmapped codes and non-numeric values."""
    for batch in reader:
        frame = batch.to_pandas()
        yield check_chunk(frame, dataset, landed)


def check_chunk(frame: pd.DataFrame, dataset: Dataset, landed: Landed) -> pd.DataFrame:
    for target, raw, what in _CHECKS:
        bad = frame.loc[frame[target].isna(), raw].dropna().unique()[:10]
        if len(bad):
            raise SchemaError(f"{what}: {sorted(map(str, bad))}", dataset=dataset.name,
                              url=landed.url)
    raw_value = frame["_obs_value"].fillna("").str.strip()
    non_numeric = frame.loc[frame["value"].isna() & (raw_value != ""), "_obs_value"].unique()[:10]
    if len(non_numeric):
        raise SchemaError(f"non-numeric OBS_VALUE: {sorted(map(str, non_numeric))}",
                          dataset=dataset.name, url=landed.url)
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
