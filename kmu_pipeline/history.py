"""Observation history: every version of every observation a raw table ever held.

Eurostat keeps only the latest value of an observation; a revision overwrites it. So each load
that replaces a raw table of model `observations` compares the new table with the table's
current versions (one per observation, its key the model's unique columns) before it takes its
place, and records what changed: a new observation, a revised value, flag or confidentiality
status, or a withdrawn one (a row of change `withdrawn`, value NULL). The version it replaces
is closed: its valid_to_* become the new version's valid_from_*. Only changes are stored, so
identical data adds no rows and the history grows with revisions, not with runs. Values
compare NULL-safely (`is distinct from`) and NaN is stored as NULL. Each version keeps two
clocks: the agency's own stamp (`last_update`, e.g. Eurostat SDMX-CSV `LAST UPDATE` 27/02/26
23:00:00) and our retrieval time of the request the row came from.

A table's first load is not copied. history.observations is a view: the versions written down
(history.stored_versions) and, for every observation nothing has been written down for, its
raw table row as the version of the table's first load, whose request and clocks
history.first_loads keeps (one row per request: a first load is kept that way only when each
of its requests has one `last_update`, as Eurostat's answers have). So a first load of 500k
observations writes a row per request instead of 500k rows (bench/RESULTS.md). A later load
writes such a first-load version down the moment it stops being the raw table's row as it was:
when it is closed (revised, withdrawn) or when the row comes under another request or
indicator code; an answer saying "no data" writes them all down before it empties the table.

The history lives in the warehouse and travels from build to build with it; history_rebuild.py
(`kmu-pipeline history rebuild`) recomputes it from the landed responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import pandera.pandas as pa

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import (
    Observations,
    base_tables,
    column_descriptions,
    comment_table,
    create_table,
    duckdb_type,
    model_of,
    relation_kind,
)

HISTORY = "history.observations"            # the view: every version
STORED = "history.stored_versions"          # the versions written down
FIRST_LOADS = "history.first_loads"         # a table's first load: its requests and clocks
TRACKED = ("value", "flag", "conf_status")  # what a revision changes; last_update is not one
# The agency's stamp (Eurostat SDMX-CSV `LAST UPDATE` 27/02/26 23:00:00, else ISO 8601)
STAMP = ("coalesce(try_strptime(last_update, '%d/%m/%y %H:%M:%S'), "
         "try_cast(last_update as timestamp))")


def history_key(model: type[pa.DataFrameModel] = Observations) -> list[str]:
    """An observation's identity: the model's unique columns (series key + period)."""
    return list(model.Config.unique)


def _own_columns() -> dict[str, tuple[str, str]]:
    """Columns the history adds to the key and TRACKED: name -> (type, comment)."""
    return {
        "change": ("VARCHAR", "What this version is: new (first seen, or back after a "
                              "withdrawal), revised (value, flag or conf_status changed) or "
                              "withdrawn (no longer in the agency's answer; value NULL)"),
        "last_update": ("VARCHAR", "The agency's last-update stamp of the row, verbatim"),
        "valid_from_agency": ("TIMESTAMP", "When the agency published this version: its "
                                           "last-update stamp as a timestamp (for a withdrawal, "
                                           "the latest stamp of the answer that lacked it)"),
        "valid_to_agency": ("TIMESTAMP", "The agency stamp of the version that replaced this "
                                         "one; NULL while current"),
        "valid_from_retrieved": ("TIMESTAMP", "When we retrieved this version (UTC): "
                                              "meta.requests.retrieved_at of its request"),
        "valid_to_retrieved": ("TIMESTAMP", "When we retrieved the version that replaced this "
                                            "one (UTC); NULL while current"),
        "raw_table": ("VARCHAR", "Raw table the observation belongs to"),
    }


def _columns() -> dict[str, tuple[str, str]]:
    """Every history column in order: name -> (DuckDB type, comment)."""
    model = Observations.to_schema().columns
    comments = column_descriptions(Observations)
    picked = [*history_key(), "indicator_code", *TRACKED]
    columns = {name: (duckdb_type(model[name].dtype), comments[name]) for name in picked}
    columns["value"] = ("DOUBLE", "Observed value of this version (NULL: none published, or "
                                  "withdrawn; NaN is stored as NULL)")
    columns.update(_own_columns())
    columns["request_id"] = ("VARCHAR", comments["request_id"] + "; for a withdrawal, the "
                                        "request whose answer lacked the observation")
    return columns


_FIRST_LOAD_COLUMNS = {
    "raw_table": ("VARCHAR", "Raw table whose first load this was"),
    "request_id": ("VARCHAR", "A request of that load (meta.requests.request_id)"),
    "last_update": ("VARCHAR", "The agency's last-update stamp of every row of that request"),
    "valid_from_agency": ("TIMESTAMP", "That stamp as a timestamp"),
    "valid_from_retrieved": ("TIMESTAMP", "When we retrieved that request's answer (UTC)"),
}


def has_history(con: duckdb.DuckDBPyConnection) -> bool:
    return relation_kind(con, HISTORY) is not None


def vintage_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Versions recorded for a raw table's observations (new, revised, withdrawn), all time."""
    if not has_history(con):
        return 0
    return con.execute(f"select count(*) from {HISTORY} where raw_table = ?",
                       [table]).fetchone()[0]


def ensure_history(con: duckdb.DuckDBPyConnection) -> None:
    """The history's tables and view, with comments, if they are not there yet. A warehouse
    whose history.observations is still the table of every version (before the first loads
    were kept as views) keeps it as its stored versions."""
    if relation_kind(con, HISTORY) == "VIEW":
        return
    con.execute("create schema if not exists history")
    if relation_kind(con, HISTORY) == "BASE TABLE":
        con.execute(f"alter table {HISTORY} rename to {STORED.partition('.')[2]}")
    _ensure_table(con, STORED, _columns(), "The versions of history.observations that are "
                  "written down: every version but those a table's first load still holds in "
                  "its raw table (history.first_loads); query history.observations")
    _ensure_table(con, FIRST_LOADS, _FIRST_LOAD_COLUMNS, "Per raw table and request of its "
                  "first load, the clocks of the versions that load made: history.observations "
                  "shows a raw table row nothing is written down for as a version of that load")
    _define_view(con)


def _ensure_table(con: duckdb.DuckDBPyConnection, table: str,
                  columns: dict[str, tuple[str, str]], description: str) -> None:
    """`table` with `columns` (name -> (type, comment)) if it is missing, and its comments."""
    if relation_kind(con, table) is None:
        con.execute(f"create table {table} ("
                    + ", ".join(f"{name} {kind}" for name, (kind, _) in columns.items()) + ")")
    comment_table(con, table, description,
                  {name: comment for name, (_, comment) in columns.items()})


def _number(column: str) -> str:
    """A value as the history stores it: NaN (Eurostat's "no value") as NULL."""
    return f"case when isnan({column}) then null else {column} end"


def _first_load_versions(table: str) -> str:
    """The versions a table's first load still holds: its rows with no version written down,
    under that load's requests and clocks."""
    keys = history_key()
    return f"""
        select {', '.join(f'o.{k}' for k in keys)}, o.indicator_code,
               {_number("o.value")} as value, o.flag, o.conf_status, 'new' as change,
               f.last_update, f.valid_from_agency, null::timestamp as valid_to_agency,
               f.valid_from_retrieved, null::timestamp as valid_to_retrieved, f.raw_table,
               o.request_id
        from {table} o
        join {FIRST_LOADS} f on f.raw_table = '{table}' and f.request_id = o.request_id
        anti join (select {', '.join(keys)} from {STORED} where raw_table = '{table}') s
            using ({', '.join(keys)})
    """


def _define_view(con: duckdb.DuckDBPyConnection) -> None:
    """history.observations over the stored versions and every first load still held."""
    tables = [t for (t,) in con.execute(
        f"select distinct raw_table from {FIRST_LOADS} where list_contains($tables, raw_table) "
        f"order by 1", {"tables": base_tables(con)}).fetchall()]
    columns = _columns()
    parts = [f"select {', '.join(columns)} from {STORED}",
             *(_first_load_versions(t) for t in tables)]
    con.execute(f"create or replace view {HISTORY} as " + "\nunion all by name\n".join(parts))
    comment_table(con, HISTORY,
                  "Every version of every observation of the raw tables of model observations: "
                  "one row per new, revised or withdrawn observation per load (only changes); "
                  "valid_from/valid_to by the agency's stamp and by our retrieval time. A view "
                  "over history.stored_versions and the first loads (history.first_loads) "
                  "whose rows the raw tables still hold",
                  {name: comment for name, (_, comment) in columns.items()}, kind="view")


def retrieval_time(landed: Landed) -> datetime | None:
    """A landed response's retrieval time as a naive UTC timestamp (None when a hand-made
    record has none)."""
    if not landed.retrieved_at:
        return None
    return datetime.fromisoformat(landed.retrieved_at).astimezone(UTC).replace(tzinfo=None)


def record_changes(con: duckdb.DuckDBPyConnection, dataset: Dataset, landed: Iterable[Landed],
                   incoming: str) -> int:
    """Record what the load in `incoming`, about to replace `dataset`'s raw table, changes,
    inside the caller's transaction and before the swap (the raw table still holds the last
    load); returns the versions it adds. Tables of other models (labels, DESI) have no
    history."""
    if model_of(dataset.model) is not Observations:
        return 0
    ensure_history(con)
    landed = list(landed)
    if not landed:  # no answer, no rows: nothing was retrieved that could change anything
        return 0
    times = {item.request_id: retrieval_time(item) for item in landed}
    params = {"ids": list(times), "times": list(times.values())}
    retrieved = "(select unnest($ids) as request_id, unnest($times) as retrieved_at)"
    seen = con.execute(f"select (select count(*) from {STORED} where raw_table = $table) + "
                       f"(select count(*) from {FIRST_LOADS} where raw_table = $table)",
                       {"table": dataset.table}).fetchone()[0]
    if not seen:
        _record_first_load(con, dataset, incoming, retrieved, params)
        return con.execute(f"select count(*) from {incoming}").fetchone()[0]
    keys = ", ".join(history_key())
    con.execute(f"create or replace temp table _incoming as "
                f"{_incoming_versions(incoming, retrieved)}", params)
    current = [f"select rowid as replaced, {', '.join(_columns())}, false as is_first_load "
               f"from {STORED} where raw_table = $table and valid_to_retrieved is null"]
    if relation_kind(con, dataset.table):  # the raw table the load replaces
        current.append(f"select null as replaced, *, true as is_first_load "
                       f"from ({_first_load_versions(dataset.table)})")
    con.execute("create or replace temp table _current as "
                + "\nunion all by name\n".join(current), {"table": dataset.table})
    # one full join of the answer with the current versions: new, revised and withdrawn
    con.execute(f"""
        create or replace temp table _changes as
        select {keys}, coalesce(i.indicator_code, h.indicator_code) as indicator_code,
               i.value, i.flag, i.conf_status, i.last_update,
               case when i.request_id is null then 'withdrawn'
                    when h.change is null or h.change = 'withdrawn' then 'new'
                    else 'revised' end as change,
               coalesce(i.stamp, (select max(stamp) from _incoming)) as valid_from_agency,
               coalesce(i.retrieved_at, $withdrawn_at::timestamp) as valid_from_retrieved,
               coalesce(i.request_id, $request) as request_id, h.replaced,
               h.is_first_load
        from _incoming as i full join _current as h using ({keys})
        where (i.request_id is null and h.change <> 'withdrawn')
           or (i.request_id is not null
               and (h.change is null or h.change = 'withdrawn'
                    or h.value is distinct from i.value or h.flag is distinct from i.flag
                    or h.conf_status is distinct from i.conf_status))
    """, {"withdrawn_at": max(filter(None, times.values()), default=None),
          "request": landed[0].request_id})
    # first-load versions that stop being their raw row as it was are written down first:
    # closed by a change, or kept under another request or indicator code
    con.execute(f"""
        insert into {STORED} by name
        select h.* exclude (replaced, is_first_load, valid_to_agency, valid_to_retrieved),
               c.valid_from_agency as valid_to_agency, c.valid_from_retrieved as valid_to_retrieved
        from _current h join _changes c using ({keys}) where h.is_first_load
        union all by name
        select h.* exclude (replaced, is_first_load)
        from _current h join _incoming i using ({keys})
        where h.is_first_load and h.value is not distinct from i.value
          and h.flag is not distinct from i.flag
          and h.conf_status is not distinct from i.conf_status
          and (h.request_id <> i.request_id or h.indicator_code is distinct from i.indicator_code)
    """)
    appended = con.execute("select count(*) from _changes").fetchone()[0]
    if appended:  # close the stored versions replaced, then append their successors
        con.execute(f"""
            update {STORED} h set valid_to_agency = c.valid_from_agency,
                                  valid_to_retrieved = c.valid_from_retrieved
            from _changes c where h.rowid = c.replaced
        """)
        con.execute(f"insert into {STORED} by name select * exclude (replaced, is_first_load), "
                    f"$table as raw_table from _changes", {"table": dataset.table})
    for temp in ("_incoming", "_current", "_changes"):
        con.execute(f"drop table {temp}")
    return appended


def _incoming_versions(incoming: str, retrieved: str) -> str:
    """The load's rows as versions: key, tracked values, the agency's stamp and our retrieval
    time of their request. The stamp is parsed once per distinct stamp: a table holds a
    handful."""
    return f"""
        select {', '.join(history_key())}, indicator_code, {_number("value")} as value, flag,
               conf_status, last_update, s.stamp, t.retrieved_at, o.request_id
        from {incoming} o join {retrieved} t using (request_id)
        left join (select last_update, {STAMP} as stamp
                   from (select distinct last_update from {incoming})) s using (last_update)
    """


def _record_first_load(con: duckdb.DuckDBPyConnection, dataset: Dataset, incoming: str,
                       retrieved: str, params: dict) -> None:
    """A table's first load, kept as a row per request in history.first_loads when each
    request's rows share one last_update (else every version is written down)."""
    # one pass over the load: each request's stamps; one stamp is all rows with the same one,
    # or all without (counted, not coalesced: a stand-in string a row took twice as long)
    stamps = con.execute(f"""
        select request_id, min(last_update),
               count(last_update) in (0, count(*))
                   and min(last_update) is not distinct from max(last_update)
        from {incoming} group by request_id
    """).fetchall()
    if not all(one for _, _, one in stamps):
        con.execute(f"""
            insert into {STORED} by name
            select * exclude (stamp, retrieved_at), 'new' as change,
                   stamp as valid_from_agency, retrieved_at as valid_from_retrieved,
                   $table as raw_table
            from ({_incoming_versions(incoming, retrieved)})
        """, {**params, "table": dataset.table})
        return
    con.execute(f"""
        insert into {FIRST_LOADS}
        select $table, request_id, last_update, {STAMP}, t.retrieved_at
        from (select unnest($requests) as request_id, unnest($stamps)::varchar as last_update)
        join {retrieved} t using (request_id)
    """, {**params, "table": dataset.table, "requests": [r for r, _, _ in stamps],
          "stamps": [low for _, low, _ in stamps]})
    # the view reads the raw table, which the swap after this puts in place: an empty one
    # stands in for it on the very first load
    create_table(con, dataset.table, Observations, replace=False, entry=dataset)
    _define_view(con)


def write_down_first_load(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """Before a raw table is emptied ("no data"), the versions its first load still holds are
    written down, so the history keeps them."""
    if model_of(dataset.model) is not Observations or not has_history(con):
        return
    ensure_history(con)
    held = con.execute(f"select count(*) from {FIRST_LOADS} where raw_table = ?",
                       [dataset.table]).fetchall()[0][0]
    if not held:  # never loaded, or its first load is written down already
        return
    con.execute(f"insert into {STORED} by name {_first_load_versions(dataset.table)}")
    con.execute(f"delete from {FIRST_LOADS} where raw_table = ?", [dataset.table])
    _define_view(con)
