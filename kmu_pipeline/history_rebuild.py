"""Recompute history.observations from the landed responses (`kmu-pipeline history rebuild`).

The landing store keeps every distinct body and, per request, a history.jsonl of every
retrieval (304 answers included). For each observations dataset the rebuild replays the
retrievals of its data requests in the order they were made, one load per fetch, through the
one load path a refresh takes (ingest.load_dataset: the adapter's parse, the shrink refusal,
pandera, the swap and record_changes) into a scratch database. Which requests carry a dataset's
data is read from meta.requests of the published warehouse (the adapters' queued answers,
footers and structure requests are landed too, and are no data).

A retrieval's load sees the same bodies and stamps as the refresh did, so the result equals the
history the runs built, unless a run's build was never published (its history is lost with it,
and the next run records the same changes at its own retrieval time) or a catalogue entry was
edited in between (the rebuild parses every body with today's entry).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kmu_pipeline.catalogue import Catalogue, Dataset, load_catalogue
from kmu_pipeline.errors import KmuError
from kmu_pipeline.history import HISTORY, ensure_history, has_history
from kmu_pipeline.ingest import (
    IngestReport,
    ensure_table,
    load_dataset,
    record_status,
    unexpected,
)
from kmu_pipeline.landing import Landed
from kmu_pipeline.publication import publish_lock
from kmu_pipeline.warehouse import Warehouse, connect, ensure_layout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild replayed and what it found."""

    loads: int            # loads replayed (fetches whose bodies differed from the last load)
    refused: int          # loads a refresh would have refused too (the last good data kept)
    rows: int             # history rows rebuilt


def retrievals(landing_root: Path, dataset: Dataset, request_ids: set[str]) -> list[Landed]:
    """Every retrieval of the dataset's data requests, oldest first."""
    found = []
    for history in sorted((Path(landing_root) / dataset.source / dataset.name)
                          .glob("*/history.jsonl")):
        for number, line in enumerate(history.read_text(encoding="utf-8").splitlines(), 1):
            try:
                record = json.loads(line) if line.strip() else {}
            except json.JSONDecodeError as exc:
                raise KmuError(f"{history} line {number} is not a retrieval record: {exc}",
                               dataset=dataset.name) from exc
            if record.get("request_id") in request_ids:
                found.append(Landed(**{k: v for k, v in record.items()
                                       if k in Landed.__dataclass_fields__}))
    return sorted(found, key=lambda item: (item.retrieved_at, item.request_id))


def fetches(records: list[Landed]) -> Iterator[list[Landed]]:
    """The retrievals grouped as the refreshes made them: a request asked again starts the
    next fetch (a fetch asks each of its requests once)."""
    group: dict[str, Landed] = {}
    for item in records:
        if item.request_id in group:
            yield list(group.values())
            group = {}
        group[item.request_id] = item
    if group:
        yield list(group.values())


def replay_dataset(con: duckdb.DuckDBPyConnection, dataset: Dataset, records: list[Landed],
                   landing_root: Path, catalogue: Catalogue) -> tuple[int, int]:
    """Load each fetch of one dataset in turn; returns (loads, refused)."""
    loads = refused = 0
    loaded: set[tuple[str, str]] = set()
    ensure_table(con, dataset)
    for landed in fetches(records):
        bodies = {(item.request_id, item.sha256) for item in landed}
        if bodies == loaded:  # the same bytes as the last load: a refresh skips it too
            continue
        report = IngestReport(dataset=dataset.name, table=dataset.table, landed=landed)
        try:
            report.rows = load_dataset(con, dataset, landed, landing_root, catalogue, {})
            loaded = bodies
        except Exception as exc:  # noqa: BLE001 (as refresh_dataset: the last good data stays)
            report.error = exc if isinstance(exc, KmuError) else unexpected(exc, dataset)
            refused += 1
            log.warning("%s: the load of %s was refused, as a refresh would have: %s",
                        dataset.table, landed[0].retrieved_at, exc)
        record_status(con, dataset, report)
        loads += 1
    return loads, refused


@contextmanager
def published_base(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published generation's private base, read-only, while no publish replaces it (an
    analyst's read-write connection to the published file cannot lock it)."""
    with publish_lock(warehouse.state_dir, shared=True):
        record = warehouse.record()
        if not record.run_id:
            raise FileNotFoundError(f"no warehouse published at {warehouse.path}; "
                                    f"`kmu-pipeline run` builds one")
        con = duckdb.connect(str(warehouse.state_dir / record.base_name()), read_only=True)
        try:
            yield con
        finally:
            con.close()


def rebuild_history(landing_root: Path, warehouse: Warehouse,
                    catalogue: Catalogue | None = None) -> tuple[duckdb.DuckDBPyConnection,
                                                                 Rebuilt]:
    """history.observations recomputed from the landed responses in a new in-memory database,
    beside a copy of the published one (`published_history`) for `differences`; the published
    warehouse names each dataset's data requests."""
    catalogue = catalogue or load_catalogue()
    con = connect()
    ensure_layout(con)
    ensure_history(con)
    with published_base(warehouse) as published:
        requests = published.execute("select dataset, request_id from meta.requests").fetchall()
        if not has_history(published):
            raise KmuError(f"{warehouse.path} has no {HISTORY} yet: run `kmu-pipeline run` "
                           f"first", dataset=HISTORY)
        con.register("published_rows", published.sql(f"select * from {HISTORY}").to_arrow_table())
        con.execute("create table published_history as select * from published_rows")
        con.unregister("published_rows")
    loads = refused = 0
    for dataset in catalogue.of_model("observations"):
        ids = {rid for table, rid in requests if table == dataset.table}
        done = replay_dataset(con, dataset, retrievals(landing_root, dataset, ids),
                              Path(landing_root), catalogue)
        loads, refused = loads + done[0], refused + done[1]
    rows = con.execute(f"select count(*) from {HISTORY}").fetchone()[0]
    return con, Rebuilt(loads=loads, refused=refused, rows=rows)


def differences(con: duckdb.DuckDBPyConnection) -> int:
    """Rows in one history and not the other (0: the rebuild equals the published history)."""
    return con.execute(f"""
        select count(*) from (
            (select * from {HISTORY} except all select * from published_history)
            union all
            (select * from published_history except all select * from {HISTORY}))
    """).fetchone()[0]
