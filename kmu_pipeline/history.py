"""Observation history: every version of every observation a raw table ever held.

Eurostat keeps only the latest value of an observation; a revision overwrites it. So each load
that replaces a raw table of model `observations` compares the new table with the history's
current versions (one per observation, its key the model's unique columns) and appends what
changed: a new observation, a revised value, flag or confidentiality status, or a withdrawn one
(a row of change `withdrawn`, value NULL). The version it replaces is closed: its valid_to_*
become the new version's valid_from_*. Only changes are stored, so identical data adds no rows
and the table grows with revisions, not with runs. Values compare NULL-safely (`is distinct
from`) and NaN is stored as NULL. Each version keeps two clocks: the agency's own stamp
(`last_update`, e.g. Eurostat SDMX-CSV `LAST UPDATE` 27/02/26 23:00:00) and our retrieval time
of the request the row came from (meta.requests.retrieved_at).

The history lives in the warehouse (history.observations) and travels from build to build with
it; history_rebuild.py (`kmu-pipeline history rebuild`) recomputes it from the landed responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import pandera.pandas as pa

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import Observations, column_descriptions, duckdb_type, model_of
from kmu_pipeline.warehouse import comment_table

HISTORY = "history.observations"
TRACKED = ("value", "flag", "conf_status")  # what a revision changes; last_update is not one
# a raw table's current versions (the parameter $table names it)
CURRENT_VERSIONS = f"from {HISTORY} where raw_table = $table and valid_to_retrieved is null"


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


def has_history(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select count(*) from duckdb_tables() where schema_name = 'history' "
                       "and table_name = 'observations'").fetchall()[0][0] > 0


def vintage_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Versions recorded for a raw table's observations (new, revised, withdrawn), all time."""
    if not has_history(con):
        return 0
    return con.execute(f"select count(*) from {HISTORY} where raw_table = ?",
                       [table]).fetchone()[0]


def ensure_history(con: duckdb.DuckDBPyConnection) -> None:
    """history.observations with its comments, if it is not there yet."""
    if has_history(con):
        return
    columns = _columns()
    con.execute("create schema if not exists history")
    con.execute(f"create table {HISTORY} ("
                + ", ".join(f"{name} {kind}" for name, (kind, _) in columns.items()) + ")")
    comment_table(con, HISTORY,
                  "Every version of every observation of the raw tables of model observations: "
                  "one row per new, revised or withdrawn observation per load (only changes); "
                  "valid_from/valid_to by the agency's stamp and by our retrieval time",
                  {name: comment for name, (_, comment) in columns.items()})


def retrieval_time(landed: Landed) -> datetime | None:
    """A landed response's retrieval time as a naive UTC timestamp (None when a hand-made
    record has none)."""
    if not landed.retrieved_at:
        return None
    return datetime.fromisoformat(landed.retrieved_at).astimezone(UTC).replace(tzinfo=None)


def record_changes(con: duckdb.DuckDBPyConnection, dataset: Dataset,
                   landed: Iterable[Landed]) -> int:
    """Append what changed in `dataset`'s raw table, just loaded from `landed`, to the
    history, inside the caller's transaction; returns the rows appended. Tables of other
    models (labels, DESI) have no history."""
    if model_of(dataset.model) is not Observations:
        return 0
    ensure_history(con)
    landed = list(landed)
    if not landed:  # no answer, no rows: nothing was retrieved that could change anything
        return 0
    times = {item.request_id: retrieval_time(item) for item in landed}
    keys = ", ".join(history_key())
    params = {"ids": list(times), "times": list(times.values()), "table": dataset.table}
    # The agency's stamp (Eurostat SDMX-CSV `LAST UPDATE` 27/02/26 23:00:00, else ISO 8601) is
    # parsed once per distinct stamp: a table holds a handful, not one per row.
    incoming = f"""
        select {keys}, indicator_code,
               case when isnan(value) then null else value end as value, flag, conf_status,
               last_update, s.stamp, t.retrieved_at, o.request_id
        from {dataset.table} o
        join (select unnest($ids) as request_id, unnest($times) as retrieved_at) t
            using (request_id)
        left join (select last_update,
                          coalesce(try_strptime(last_update, '%d/%m/%y %H:%M:%S'),
                                   try_cast(last_update as timestamp)) as stamp
                   from (select distinct last_update from {dataset.table})) s using (last_update)
    """
    first_load = not con.execute(f"select count(*) {CURRENT_VERSIONS}",
                                 {"table": dataset.table}).fetchone()[0]
    if first_load:
        # the table's first load: every observation is new and nothing is closed,
        # so one insert straight from the table instead of the full join below
        return con.execute(f"""
            insert into {HISTORY} by name
            select * exclude (stamp, retrieved_at), 'new' as change,
                   stamp as valid_from_agency, retrieved_at as valid_from_retrieved,
                   $table as raw_table
            from ({incoming})
        """, params).fetchone()[0]
    con.execute(f"create or replace temp table _incoming as {incoming}",
                {"ids": params["ids"], "times": params["times"]})
    # one full join of the answer with the current versions: new, revised and withdrawn
    con.execute(f"""
        create or replace temp table _changes as
        with current_versions as (
            select rowid as replaced, {keys}, indicator_code, value, flag, conf_status, change
            {CURRENT_VERSIONS}
        )
        select {keys}, coalesce(i.indicator_code, h.indicator_code) as indicator_code,
               i.value, i.flag, i.conf_status, i.last_update,
               case when i.request_id is null then 'withdrawn'
                    when h.change is null or h.change = 'withdrawn' then 'new'
                    else 'revised' end as change,
               coalesce(i.stamp, (select max(stamp) from _incoming)) as valid_from_agency,
               coalesce(i.retrieved_at, $withdrawn_at::timestamp) as valid_from_retrieved,
               coalesce(i.request_id, $request) as request_id, h.replaced
        from _incoming as i full join current_versions as h using ({keys})
        where (i.request_id is null and h.change <> 'withdrawn')
           or (i.request_id is not null
               and (h.change is null or h.change = 'withdrawn'
                    or h.value is distinct from i.value or h.flag is distinct from i.flag
                    or h.conf_status is distinct from i.conf_status))
    """, {"table": dataset.table, "withdrawn_at": max(filter(None, times.values()), default=None),
          "request": landed[0].request_id})
    appended = con.execute("select count(*) from _changes").fetchone()[0]
    if appended:  # close the versions replaced, then append their successors
        con.execute(f"""
            update {HISTORY} h set valid_to_agency = c.valid_from_agency,
                                    valid_to_retrieved = c.valid_from_retrieved
            from _changes c where h.rowid = c.replaced
        """)
        con.execute(f"insert into {HISTORY} by name select * exclude (replaced), "
                    f"$table as raw_table from _changes", {"table": dataset.table})
    con.execute("drop table _incoming")
    con.execute("drop table _changes")
    return appended
