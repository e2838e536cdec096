"""Map Eurostat's native columns to the tidy observation frame, in DuckDB, one pass.

Both SDMX-CSV (read by DuckDB's CSV reader) and SDMX-ML (streamed by expat) arrive here as a
relation named `native` with Eurostat's column names; one SQL statement joins the catalogue's
code maps and casts. Left joins keep unmapped codes visible as NULLs so that drift is reported
by name instead of silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import OBSERVATION_COLUMNS

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
    try_cast(n.TIME_PERIOD as bigint) as year,
    {value_cast}(nullif(trim(n.OBS_VALUE), '') as double) as _number,
    -- Eurostat writes OBS_VALUE NaN beside a flag for "no value" (either format): stored as
    -- NULL like an empty value, since a NaN passes `is not null` and sorts above every number
    case when not isnan(_number) then _number end as value,
    nullif(trim({flag}), '') as flag,
    nullif(trim({conf_status}), '') as conf_status,
    {last_update} as last_update,
    $request_id as request_id,
    -- true where a check in check_chunk fails; only such rows carry their raw codes, so a
    -- clean batch costs one boolean column instead of five strings
    (ind.target is null and n.indic_is is not null)
        or (sz.target is null and n.size_emp is not null)
        or (un.target is null and n.unit is not null)
        or (year is null and n.TIME_PERIOD is not null)
        or (_number is null and nullif(trim(n.OBS_VALUE), '') is not null)
        as _suspect,
    case when _suspect then n.indic_is end as _indic_is,
    case when _suspect then n.size_emp end as _size_emp,
    case when _suspect then n.unit end as _unit,
    case when _suspect then n.TIME_PERIOD end as _time_period,
    case when _suspect and _number is null then n.OBS_VALUE end as _obs_value  -- not a number
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
MAPS = ("indicator_map", "size_map", "unit_map")


def register_maps(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """The catalogue's code maps as small relations the harmonising SQL joins.

    Also asks for Arrow large_string results: pandas 3's str dtype stores large_string, so the
    handover to pandas is then zero-copy (it cast every column before, ~25% of parse time).
    """
    con.execute("set arrow_large_buffer_size = true")
    for name, mapping in zip(MAPS, (dataset.indicators, dataset.size_classes, dataset.units),
                             strict=True):
        frame = pd.DataFrame({"code": list(mapping), "target": list(mapping.values())},
                             dtype="string")
        con.register(name, frame)


def unregister_maps(con: duckdb.DuckDBPyConnection) -> None:
    for name in MAPS:
        con.unregister(name)


def harmonise_sql(columns: list[str], strict: bool = False) -> str:
    """The harmonising query for a native relation with these columns.

    strict: a non-numeric OBS_VALUE raises duckdb.ConversionException instead of becoming a
    suspect row (for the one-statement CSV load, which stores no raw columns to explain it).
    """
    nace = "n.nace_r2" if "nace_r2" in columns else "'TOTAL'"
    flag = "n.OBS_FLAG" if "OBS_FLAG" in columns else "null::varchar"
    conf_status = "n.CONF_STATUS" if "CONF_STATUS" in columns else "null::varchar"
    last_update = 'n."LAST UPDATE"' if "LAST UPDATE" in columns else "null::varchar"
    return HARMONISE_SQL.format(nace=nace, flag=flag, conf_status=conf_status,
                                last_update=last_update,
                                value_cast="cast" if strict else "try_cast")


def observations_sql(columns: list[str], strict: bool = False) -> str:
    """Only the observation columns of the harmonising query (DuckDB then skips the rest)."""
    return f"select {', '.join(OBSERVATION_COLUMNS)} from ({harmonise_sql(columns, strict)})"


_NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
_YEAR = r"^[0-9]{4}$"


def _mapped(column: pa.Array, mapping: dict[str, str]) -> pa.Array:
    codes = pa.array(list(mapping), pa.large_string())
    return pc.take(pa.array(list(mapping.values()), pa.large_string()),
                   pc.index_in(column, value_set=codes))


def _blank_to_null(column: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim(column, characters=" ")  # DuckDB's trim(): spaces only
    return pc.if_else(pc.equal(trimmed, ""), None, trimmed)


def harmonise_arrow(native: pa.Table, dataset: Dataset, request_id: str) -> pa.Table | None:
    """HARMONISE_SQL for one native table in pyarrow, for the SDMX-ML parsing processes (which
    must not use DuckDB after fork); None when a row is anything but plain (an unmapped code, a
    year or number in an unusual form): the caller then leaves the chunk to HARMONISE_SQL,
    which names what is wrong. tests/unit/test_sdmx_harmonise.py checks both give the same."""
    n = native.num_rows
    columns = native.column_names
    indicator = _mapped(native["indic_is"], dataset.indicators)
    size_class = _mapped(native["size_emp"], dataset.size_classes)
    unit = _mapped(native["unit"], dataset.units)
    value_text = _blank_to_null(native["OBS_VALUE"])
    plain = pc.and_kleene(
        pc.and_kleene(pc.is_valid(indicator), pc.is_valid(size_class)),
        pc.and_kleene(pc.is_valid(unit), pc.match_substring_regex(native["TIME_PERIOD"], _YEAR)))
    plain = pc.and_kleene(plain, pc.or_kleene(pc.is_null(value_text),
                                              pc.match_substring_regex(value_text, _NUMBER)))
    if not pc.all(pc.fill_null(plain, False)).as_py():
        return None
    constant = lambda text: pa.repeat(pa.scalar(text, pa.large_string()), n)  # noqa: E731
    def attribute(name: str) -> pa.Array:
        return (_blank_to_null(native[name]) if name in columns
                else pa.nulls(n, pa.large_string()))

    return pa.table({
        "source": constant(dataset.source), "dataset": constant(dataset.name),
        "indicator": indicator, "indicator_code": native["indic_is"], "size_class": size_class,
        "nace": native["nace_r2"] if "nace_r2" in columns else constant("TOTAL"),
        "geo": native["geo"], "unit": unit,
        "year": pc.cast(native["TIME_PERIOD"], pa.int64()),
        "value": pc.cast(value_text, pa.float64()), "flag": attribute("OBS_FLAG"),
        "conf_status": attribute("CONF_STATUS"),
        "last_update": pa.nulls(n, pa.large_string()), "request_id": constant(request_id),
    })


def checked_tables(tables: Iterable[pa.Table], dataset: Dataset,
                   landed: Landed) -> Iterator[pa.Table]:
    """Harmonised Arrow tables -> the observation columns, raising on unmapped codes and bad
    values. Only a table the SQL marked `_suspect` is searched for the offending codes."""
    for table in tables:
        if pc.any(table.column("_suspect")).as_py():
            check_chunk(table.to_pandas(), dataset, landed)
        yield table.select(OBSERVATION_COLUMNS)


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
