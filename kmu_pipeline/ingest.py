"""fetch -> land -> load -> validate -> swap -> record status: the one refresh path of every raw
table, whatever its source and shape.

This is what a raw asset calls and what bench/ measures. The entry's source adapter
(sources/registry.py) checks the entry against the agency's structure and lands the data
bodies; downloads run outside any lock, so datasets download in parallel. The load runs in the
run's build under its write lock, in one transaction: the adapter writes the rows into a new
table created from the entry's model (schemas.TABLE_MODELS; an SDMX-CSV body in one DuckDB
statement, other answers as Arrow/pandas chunks), pandera validates it where it lies
(validation.validate_table), and only then does it replace the last good table. A failed
dataset rolls back, keeps its last good table and is marked stale in meta.dataset_status.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Catalogue, Dataset, load_catalogue
from kmu_pipeline.errors import (
    EmptyAnswerError,
    KmuError,
    MalformedPayloadError,
    NoDataError,
    SchemaError,
    SkippedError,
)
from kmu_pipeline.history import record_changes, write_down_first_load
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import column_descriptions, create_table, model_of, relation_kind
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.sources.registry import adapter_for
from kmu_pipeline.validation import TableValidation, validate_table
from kmu_pipeline.warehouse import Warehouse, swap_in, transaction

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What happened to one dataset in one run (becomes Dagster metadata)."""

    dataset: str
    table: str
    rows: int = 0
    unchanged: bool = False
    # what the agency said: changed, unchanged_upstream (its stamp is the one loaded: no data
    # asked), unchanged_bytes (asked, same bytes) or not_checked (failed or skipped before)
    checked: str = "not_checked"
    upstream_updated: str = ""  # the agency's last-update stamp, '' when it states none
    landed: list[Landed] = field(default_factory=list)
    error: KmuError | None = None
    failure_cases: pd.DataFrame | None = None
    # the table or its recorded state (_STATE) changed: the run has something to publish
    recorded_change: bool = False
    # Wall seconds per phase: fetch, load (parse into the new table), validate (pandera),
    # keys (key uniqueness and size classes), swap (replace the last good table, commit).
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None or isinstance(self.error, NoDataError)

    @property
    def status(self) -> str:
        """ok, no_data (the agency said so explicitly), skipped (not asked: no credentials) or
        stale (the refresh failed; the last good data kept)."""
        if isinstance(self.error, NoDataError):
            return "no_data"
        if isinstance(self.error, SkippedError):
            return "skipped"
        return "ok" if self.error is None else "stale"


def schema_error(result: TableValidation, dataset: Dataset, url: str) -> SchemaError:
    """The failed checks with a few offending values each; all cases go to the asset check."""
    cases = result.failure_cases
    parts = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        examples = [str(v) for v in group["failure_case"].head(3)]
        parts.append(f"{column or 'row'}: {check} fails for {examples}")
    return SchemaError(f"observations fail the schema: {'; '.join(parts[:8])}",
                       dataset=dataset.name, url=url, failure_cases=cases.head(50))


def lost_size_classes(con: duckdb.DuckDBPyConnection, dataset: Dataset,
                      incoming: str) -> tuple[list[str], list[str]]:
    """Size classes the last good table had and this answer lacks (a renamed or dropped code),
    and those it had. Eurostat leaves some classes out for some indicators (0-9), so the
    reference is the dataset's own last good data, not the catalogue map."""
    if relation_kind(con, dataset.table) is None:
        return [], []
    had = {s for (s,) in con.execute(
        f"select distinct size_class from {dataset.table} where size_class is not null")
        .fetchall()}
    present = {s for (s,) in con.execute(f"select distinct size_class from {incoming}")
               .fetchall()}
    return (sorted(had - present) if present else []), sorted(had)


def load_dataset(con: duckdb.DuckDBPyConnection, dataset: Dataset, landed: list[Landed],
                 landing_root: Path, catalogue: Catalogue, seconds: dict[str, float]) -> int:
    """Load, validate and swap in one dataset's answers in one transaction; return its rows."""
    incoming = f"{dataset.table}__incoming"
    url = landed[0].url if landed else dataset.name
    adapter, source = adapter_for(dataset.source), catalogue.sources[dataset.source]
    model = model_of(dataset.model)
    with transaction(con):
        clock = time.perf_counter()
        create_table(con, incoming, model, entry=dataset)
        rows = sum(_load_one(adapter, con, incoming, dataset, source, item, landing_root)
                   for item in landed)
        seconds["load"] = time.perf_counter() - clock
        refuse_shrinking(con, dataset, rows, url)
        result = validate_table(con, incoming, model)
        seconds.update(result.seconds)
        if not result.passed:
            raise schema_error(result, dataset, url)
        clock = time.perf_counter()
        if "size_class" in column_descriptions(model):
            missing, had = lost_size_classes(con, dataset, incoming)
            if missing:
                raise SchemaError(f"size classes missing from the answer: {missing} (the last "
                                  f"good data had {had})", dataset=dataset.name, url=url)
        seconds["keys"] = seconds.get("keys", 0.0) + time.perf_counter() - clock
        clock = time.perf_counter()
        # history.observations: what this load changes, read against the table it replaces
        record_changes(con, dataset, landed, incoming)
        swap_in(con, incoming, dataset.table,
                description=f"{dataset.title}. Source: {source.agency}, {dataset.code}, as "
                            f"delivered; trace rows via request_id -> meta.requests.",
                column_comments=column_descriptions(model))
    seconds["swap"] = time.perf_counter() - clock  # with the commit
    return rows


def _load_one(adapter, con, incoming: str, dataset: Dataset, source, item: Landed,
              landing_root: Path) -> int:
    """One body's rows; whatever breaks the reader names this body's request."""
    try:
        return adapter.load(con, incoming, dataset, source, item, item.body_path(landing_root))
    except KmuError:
        raise
    except Exception as exc:  # noqa: BLE001 (named and chained by unexpected)
        raise unexpected(exc, dataset, item.url) from exc


ACCEPT_DROP_ENV = "KMU_ACCEPT_DROP"  # comma-separated dataset names whose drop is accepted
SHRINK_LIMIT = 0.5  # an answer with less than this share of the last good rows is refused


def refuse_shrinking(con: duckdb.DuckDBPyConnection, dataset: Dataset, rows: int,
                     url: str) -> None:
    """An answer without observations, or with less than half the last good table's, never
    replaces it: a header-only, cut or partial answer is not the agency withdrawing data (that
    it says explicitly, NoDataError). An edited catalogue entry may shrink its table, and
    KMU_ACCEPT_DROP=<dataset> accepts one drop on purpose."""
    exists = relation_kind(con, dataset.table) is not None
    had = con.execute(f"select count(*) from {dataset.table}").fetchone()[0] if exists else 0
    if not had:
        return
    if rows == 0:
        raise EmptyAnswerError(f"the answer holds no observations; the last good table has "
                               f"{had} and was kept", dataset=dataset.name, url=url)
    accepted = dataset.name in os.environ.get(ACCEPT_DROP_ENV, "").split(",")
    if rows < had * SHRINK_LIMIT and last_load(con, dataset).same_entry and not accepted:
        raise EmptyAnswerError(
            f"the answer holds {rows} observations where the last good table has {had} (more "
            f"than half gone, the catalogue entry unchanged); the last good table was kept. If "
            f"the agency really withdrew them, run once with {ACCEPT_DROP_ENV}={dataset.name}",
            dataset=dataset.name, url=url)


def ensure_table(con, dataset: Dataset) -> None:
    """An empty raw table, so downstream SQL works before a dataset's first success."""
    create_table(con, dataset.table, model_of(dataset.model), replace=False, entry=dataset)


def loaded_from(dataset: Dataset, landed: list[Landed]) -> str:
    """What a table was built from: the bodies' sha256 and the catalogue entry's own digest,
    so an edited entry (a code map, a unit) reloads from the landed bodies even when upstream
    sent the same bytes."""
    return ",".join(i.sha256 for i in landed) + f"|entry:{entry_digest(dataset)}"


def entry_digest(dataset: Dataset) -> str:
    return hashlib.sha256(repr(dataset).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LastLoad:
    """What meta.dataset_status says of a raw table's last refresh."""

    status: str | None = None
    upstream_updated: str | None = None
    loaded_from: str | None = None  # the bodies' sha256 and the entry's digest (loaded_from)
    same_entry: bool = False  # the table was loaded from the catalogue entry as it is now


def last_load(con, dataset: Dataset) -> LastLoad:
    row = con.execute("select status, upstream_updated, sha256 from meta.dataset_status "
                      "where dataset = ?", [dataset.table]).fetchone()
    if not row:
        return LastLoad()
    return LastLoad(*row, same_entry=bool(row[2]) and
                    row[2].endswith(f"|entry:{entry_digest(dataset)}"))


def _unchanged(con, dataset: Dataset, landed: list[Landed]) -> bool:
    last = last_load(con, dataset)
    return last.status == "ok" and last.loaded_from == loaded_from(dataset, landed)


# meta.dataset_status: column -> (what this refresh writes, whether the stored value stays
# where this refresh has none: a failed or skipped refresh keeps what the last good one said)
_STATUS_COLUMNS = {
    "status": ("$status", False), "checked": ("$checked", False),
    "upstream_updated": ("$upstream_updated", True), "rows": ("$rows", True),
    "request_ids": ("$request_ids", True), "urls": ("$urls", True), "sha256": ("$sha256", True),
    "last_success_at": ("case when $ok then now() end", True),
    "last_attempt_at": ("now()", False),
    "last_checked_at": ("case when $was_checked then now() end", True),
    "error": ("$error", False),
}
# an update, and an insert where there was no row: a third of the time of one
# insert ... on conflict do update (which a no-op refresh of every dataset pays)
_UPDATE_STATUS = "update meta.dataset_status set " + ", ".join(
    f"{column} = coalesce({value}, {column})" if stays else f"{column} = {value}"
    for column, (value, stays) in _STATUS_COLUMNS.items()) + " where dataset = $dataset"
_INSERT_STATUS = (f"insert into meta.dataset_status (dataset, {', '.join(_STATUS_COLUMNS)}) "
                  f"values ($dataset, {', '.join(v for v, _ in _STATUS_COLUMNS.values())})")
# What the status says about the table and where its data came from. The other columns say
# what the last check found and when: a check alone is no reason for a new generation.
_STATE = ("select status, upstream_updated, rows, request_ids, urls, sha256, error "
          "from meta.dataset_status where dataset = ?")


def record_status(con, dataset: Dataset, report: IngestReport) -> bool:
    """Write the dataset's meta.dataset_status row and the requests its data came from; a
    failed or skipped refresh keeps what the last good one recorded about the data. Returns
    whether the recorded state (_STATE) changed."""
    landed, ok = report.landed, report.ok
    before = con.execute(_STATE, [dataset.table]).fetchone()
    params = {
        "dataset": dataset.table, "status": report.status, "checked": report.checked,
        "upstream_updated": (report.upstream_updated or None) if ok else None,
        "rows": report.rows if ok else None,
        "request_ids": (",".join(i.request_id for i in landed) or None) if ok else None,
        "urls": (" ".join(i.url for i in landed) or None) if ok else None,
        "sha256": loaded_from(dataset, landed) if ok and landed else None,
        "ok": ok, "was_checked": report.checked != "not_checked",
        "error": None if report.error is None else str(report.error)}
    (updated,), = con.execute(_UPDATE_STATUS, params).fetchall()
    if not updated:
        con.execute(_INSERT_STATUS, params)
    for item in landed:
        con.execute("insert or replace into meta.requests (request_id, dataset, url, "
                    "retrieved_at, sha256, content_type, last_modified) "
                    "values (?, ?, ?, ?, ?, ?, ?)",
                    [item.request_id, dataset.table, item.url, item.retrieved_at, item.sha256,
                     item.content_type, item.headers.get("last-modified")])
    return con.execute(_STATE, [dataset.table]).fetchone() != before


def confirmed_unchanged(con, dataset: Dataset, stamp: str) -> bool:
    """The agency's stamp (stated: refresh_dataset asks only then) is the one of the data
    loaded, from the same catalogue entry, and the last refresh succeeded: nothing new can be
    asked for."""
    last = last_load(con, dataset)
    return last.status == "ok" and last.upstream_updated == stamp and last.same_entry


def refresh_dataset(dataset: Dataset, *, client: HttpClient, base_url: str,
                    warehouse: Warehouse, run_id: str,
                    catalogue: Catalogue | None = None) -> IngestReport:
    """Bring one raw table up to date in this run's build; never raises a KmuError.

    The source's adapter checks the entry against the agency's structure before it asks for
    data, and returns data bodies only. A failure keeps the last good table (status stale);
    the agency saying explicitly that the key has no data empties it (status no_data). A
    changed table or recorded state is noted for the run's publish."""
    report = _refresh(dataset, client, base_url, warehouse, run_id,
                      catalogue or load_catalogue())
    if report.recorded_change:
        warehouse.note_change(run_id, dataset.table)
    return report


def _refresh(dataset: Dataset, client: HttpClient, base_url: str, warehouse: Warehouse,
             run_id: str, catalogue: Catalogue) -> IngestReport:
    report = IngestReport(dataset=dataset.name, table=dataset.table)
    clock = time.perf_counter()
    try:
        adapter, source = adapter_for(dataset.source), catalogue.sources[dataset.source]
        if (why := adapter.missing_credentials(base_url)) is not None:
            raise SkippedError(f"not asked: {why}", dataset=dataset.name)
        report.upstream_updated = adapter.upstream_stamp(dataset, source, client, base_url)
        if client.conditional and report.upstream_updated:  # a stamp to compare: is it ours?
            with warehouse.connect_build(run_id, counts_as_change=False) as con:
                if confirmed_unchanged(con, dataset, report.upstream_updated):
                    return _keep(con, dataset, report, "unchanged_upstream")
        report.landed = adapter.fetch(dataset, source, client, base_url)
        report.seconds["fetch"] = time.perf_counter() - clock
        with warehouse.connect_build(run_id, counts_as_change=False) as con:
            if _unchanged(con, dataset, report.landed):
                return _keep(con, dataset, report, "unchanged_bytes")
            report.checked = "changed"
            report.rows = load_dataset(con, dataset, report.landed, client.landing.root,
                                       catalogue, report.seconds)
            report.recorded_change = True
            record_status(con, dataset, report)
        log.info("%s: %d rows", dataset.table, report.rows)
    except NoDataError as exc:
        report.error, report.checked = exc, "changed"
        log.warning("%s", exc)
        with warehouse.connect_build(run_id, counts_as_change=False) as con, transaction(con):
            write_down_first_load(con, dataset)  # the history keeps what the table held
            create_table(con, dataset.table, model_of(dataset.model), entry=dataset)
            report.recorded_change = True
            record_status(con, dataset, report)
    except Exception as exc:  # noqa: BLE001 (one bad answer must never cost the other datasets)
        report.error = exc if isinstance(exc, KmuError) else unexpected(exc, dataset,
                                                                        client.last_url)
        report.failure_cases = getattr(exc, "failure_cases", None)
        (log.warning if isinstance(exc, SkippedError) else log.error)("%s", report.error)
        with warehouse.connect_build(run_id, counts_as_change=False) as con:
            ensure_table(con, dataset)
            recorded = record_status(con, dataset, report)
        # a failure always publishes: the publish is what fails the run for it (defs/publish.py)
        report.recorded_change = recorded or report.status == "stale"
    return report


def _keep(con, dataset: Dataset, report: IngestReport, checked: str) -> IngestReport:
    """Upstream has nothing new: the table stays, the check is recorded."""
    report.unchanged, report.checked = True, checked
    report.rows = con.execute(f"select count(*) from {dataset.table}").fetchone()[0]
    report.recorded_change = record_status(con, dataset, report)
    log.info("%s: %s (%d rows kept)", dataset.table, checked.replace("_", " "), report.rows)
    return report


def unexpected(exc: Exception, dataset: Dataset, url: str = "") -> KmuError:
    """Whatever else a hostile or broken answer raises inside one dataset's refresh (an XML
    encoding expat cannot read, a field too large for the CSV reader, a number that overflows)
    fails that dataset, named, with the cause chained; the last good data stays."""
    first_line = (str(exc).splitlines() or [""])[0][:500]
    error = MalformedPayloadError(f"unexpected {type(exc).__name__} while reading the answer: "
                                  f"{first_line}", dataset=dataset.name, url=url)
    error.__cause__ = exc
    return error
