"""Map Eurostat's native columns to the tidy observation frame, in DuckDB, one pass.

Both SDMX-CSV (read by DuckDB's CSV reader) and SDMX-ML (read by xml2arrow) arrive here as a
relation named `native` with Eurostat's column names; one SQL statement looks the codes up in
the catalogue's code maps (query parameters) and casts. An unmapped code aborts the load and a
second read names it, so that drift is reported by name instead of silently dropped. Lookups,
not joins: an INSERT over a join with an Arrow stream kept its uncommitted rows in memory
(5M SDMX-ML observations: out of memory at 128 MB), the same INSERT over lookups streams to
disk.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import OBSERVATION_COLUMNS, written_columns
from kmu_pipeline.warehouse import connect

HARMONISE_SQL = """
with looked_up as (
    select
        n.*,
        ($indicator_targets::varchar[])[list_position($indicator_codes::varchar[], n.indic_is)]
            as _indicator,
        ($size_targets::varchar[])[list_position($size_codes::varchar[], n.size_emp)]
            as _size_class,
        ($unit_targets::varchar[])[list_position($unit_codes::varchar[], n.unit)] as _unit
    from native as n
)
select
    $source as source,
    $dataset as dataset,
    {indicator} as indicator,
    n.indic_is as indicator_code,
    {size_class} as size_class,
    {nace} as nace,
    n.geo as geo,
    {unit} as unit,
    {cast}(n.TIME_PERIOD as bigint) as year,
    {cast}(nullif(trim(n.OBS_VALUE), '') as double) as _number,
    -- Eurostat writes OBS_VALUE NaN beside a flag for "no value" (either format): stored as
    -- NULL like an empty value, since a NaN passes `is not null` and sorts above every number
    case when not isnan(_number) then _number end as value,
    nullif(trim({flag}), '') as flag,
    nullif(trim({conf_status}), '') as conf_status,
    {last_update} as last_update,
    $request_id as request_id,
    -- true where a check in check_chunk fails; only such rows carry their raw codes, so a
    -- clean batch costs one boolean column instead of five strings
    (n._indicator is null and n.indic_is is not null)
        or (n._size_class is null and n.size_emp is not null)
        or (n._unit is null and n.unit is not null)
        or (year is null and n.TIME_PERIOD is not null)
        or (_number is null and nullif(trim(n.OBS_VALUE), '') is not null)
        as _suspect,
    case when _suspect then n.indic_is end as _indic_is,
    case when _suspect then n.size_emp end as _size_emp,
    case when _suspect then n.unit end as _unit,
    case when _suspect then n.TIME_PERIOD end as _time_period,
    case when _suspect and _number is null then n.OBS_VALUE end as _obs_value  -- not a number
from looked_up as n
"""

_CHECKS = (
    ("indicator", "_indic_is", "unknown indic_is codes"),
    ("size_class", "_size_emp", "unknown size_emp codes"),
    ("unit", "_unit", "unknown unit codes"),
    ("year", "_time_period", "TIME_PERIOD values that are not years"),
)
def query_params(dataset: Dataset, landed: Landed) -> dict:
    """Every parameter of the harmonising query: where the rows come from, and the code maps."""
    return {"source": dataset.source, "dataset": dataset.name, "request_id": landed.request_id,
            **map_params(dataset)}


def map_params(dataset: Dataset) -> dict[str, list[str]]:
    """The catalogue's code maps as the harmonising query's parameters (codes, targets)."""
    params = {}
    for name, mapping in (("indicator", dataset.indicators), ("size", dataset.size_classes),
                          ("unit", dataset.units)):
        params[f"{name}_codes"], params[f"{name}_targets"] = list(mapping), list(mapping.values())
    return params


UNMAPPED = "kmu: a code the catalogue does not map"


def _mapped(target: str, raw: str) -> str:
    """The looked-up code, or (strict) an error where a code is there but not in the map."""
    return (f"case when n.{target} is null and n.{raw} is not null then error('{UNMAPPED}') "
            f"else n.{target} end")


def harmonise_sql(columns: list[str], strict: bool = False) -> str:
    """The harmonising query for a native relation with these columns.

    strict: a code the catalogue does not map, a TIME_PERIOD that is not a year or a
    non-numeric OBS_VALUE aborts the statement (duckdb.InvalidInputException naming UNMAPPED,
    or duckdb.ConversionException) instead of becoming a suspect row: for the one-statement
    load, which stores no raw columns to explain them, and so needs no second pass to look
    for them.
    """
    nace = "n.nace_r2" if "nace_r2" in columns else "'TOTAL'"
    flag = "n.OBS_FLAG" if "OBS_FLAG" in columns else "null::varchar"
    conf_status = "n.CONF_STATUS" if "CONF_STATUS" in columns else "null::varchar"
    last_update = 'n."LAST UPDATE"' if "LAST UPDATE" in columns else "null::varchar"
    maps = ({name: _mapped(f"_{name}", raw) for name, raw in
             (("indicator", "indic_is"), ("size_class", "size_emp"), ("unit", "unit"))}
            if strict else {name: f"n._{name}" for name in ("indicator", "size_class", "unit")})
    return HARMONISE_SQL.format(nace=nace, flag=flag, conf_status=conf_status,
                                last_update=last_update, **maps,
                                cast="cast" if strict else "try_cast")


def insert_sql(target: str, written: list[str], columns: list[str]) -> str:
    """The strict harmonising query into `target`, only the observation columns `written`
    (DuckDB then skips the rest, and a raw table's generated source and dataset)."""
    names = ", ".join(written)
    return f"insert into {target} ({names}) select {names} from ({harmonise_sql(columns, True)})"


def insert_harmonised(con: duckdb.DuckDBPyConnection, target: str, landed: Landed,
                      dataset: Dataset, header: list[str],
                      open_native: Callable[[duckdb.DuckDBPyConnection], None]) -> int:
    """Insert the body's observations into `target` in one statement; return the rows.

    `open_native(con)` registers the body's native columns (named by `header`: the SDMX-CSV
    header, or the SDMX-ML reader's columns) as `native` on a connection. DuckDB harmonises and
    writes them in one pass, storing only the tidy columns. A code the catalogue does not map,
    or a value that does not cast, aborts the statement (harmonise_sql, strict); the body is
    then opened again, apart, to name the codes (SchemaError).
    The caller rolls back what an aborted statement left in its transaction.
    """
    params = query_params(dataset, landed)
    try:
        open_native(con)
        sql = insert_sql(target, written_columns(con, target, OBSERVATION_COLUMNS), header)
        (rows,), = con.execute(sql, params).fetchall()
    except duckdb.ConversionException:  # a TIME_PERIOD or OBS_VALUE that is not a number
        _explain(landed, dataset, header, open_native)
    except duckdb.InvalidInputException as exc:
        if UNMAPPED not in str(exc):
            raise
        _explain(landed, dataset, header, open_native)
    con.unregister("native")  # (an aborted transaction refuses it; the connection closes)
    return rows


def _explain(landed: Landed, dataset: Dataset, header: list[str],
             open_native: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Raise the SchemaError that names the codes or values the load could not map, reading the
    body again in a connection of its own (the load's transaction is aborted by then)."""
    con = connect(threads="1", arrow_large_buffer_size="true")  # pandas 3 str: no cast
    try:
        open_native(con)
        suspects = con.sql(f"select * from ({harmonise_sql(header)}) where _suspect limit 1000",
                           params=query_params(dataset, landed))
        check_chunk(suspects.df(), dataset, landed)
    finally:
        con.close()
    raise SchemaError("rows with unmapped codes or non-numeric values (none found again on "
                      "a second read)", dataset=dataset.name, url=landed.url)


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
