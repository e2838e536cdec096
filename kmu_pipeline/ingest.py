"""fetch -> land -> load -> validate -> swap, for one catalogue dataset.

This is what a raw asset calls and what bench/ measures: one code path. Downloads run outside any
lock, so datasets download in parallel. The load runs in the run's build under its write lock,
in one transaction: the rows go into a new table (an SDMX-CSV body in one DuckDB statement;
SDMX-ML and GENESIS answers as Arrow/pandas chunks), pandera validates it where it lies
(validation.validate_table), and only then does it replace the last good table. A failed
dataset rolls back, keeps its last good table and is marked stale in meta.dataset_status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Catalogue, Dataset, load_catalogue
from kmu_pipeline.chunk_insert import ARROW_SCHEMA, insert_chunks
from kmu_pipeline.errors import KmuError, SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse import sdmx_csv, sdmx_ml
from kmu_pipeline.parse.sdmx_ml_split import SplitFailed
from kmu_pipeline.schemas import Observations, column_descriptions
from kmu_pipeline.sources import eurostat
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.validation import TableValidation, validate_table
from kmu_pipeline.warehouse import Warehouse, swap_in, transaction

log = logging.getLogger(__name__)


def create_observations_table(con: duckdb.DuckDBPyConnection, table: str,
                              replace: bool = True) -> None:
    """An empty table of the Observations columns, typed as the loads write them (DuckDB's
    types for chunk_insert.ARROW_SCHEMA); replace=False keeps an existing one."""
    con.register("observation_columns", ARROW_SCHEMA.empty_table())
    if replace:
        con.execute(f"create or replace table {table} as select * from observation_columns")
    else:
        con.execute(f"create table if not exists {table} as select * from observation_columns")
    con.unregister("observation_columns")


@dataclass
class IngestReport:
    """What happened to one dataset in one run (becomes Dagster metadata)."""

    dataset: str
    table: str
    rows: int = 0
    unchanged: bool = False
    landed: list[Landed] = field(default_factory=list)
    error: KmuError | None = None
    failure_cases: pd.DataFrame | None = None
    # Wall seconds per phase: fetch, load (parse into the new table), validate (pandera),
    # keys (key uniqueness and size classes), swap (replace the last good table, commit).
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def urls(self) -> list[str]:
        return [item.url for item in self.landed]


def _fetch(dataset: Dataset, client: HttpClient, catalogue: Catalogue,
           base_url: str) -> list[Landed]:
    if dataset.source == "eurostat":
        return eurostat.fetch_dataset(dataset, client, catalogue.sources["eurostat"], base_url)
    if dataset.source == "genesis":
        from kmu_pipeline.sources import genesis

        return genesis.fetch_dataset(dataset, client, base_url)
    raise KmuError(f"no fetcher for source {dataset.source!r}", dataset=dataset.name)


def _insert(con: duckdb.DuckDBPyConnection, target: str, dataset: Dataset, landed: Landed,
            body: Path, catalogue: Catalogue) -> int:
    """Insert one landed answer's observations into `target`; return the rows inserted."""
    if dataset.source == "eurostat":
        dims = list(catalogue.sources["eurostat"].options["dimensions"])
        with open(body, "rb") as fh:
            xml = fh.read(64).lstrip().startswith(b"<")
        if xml and "xml" in landed.content_type:
            try:
                return insert_chunks(con, target, sdmx_ml.parse_landed(landed, body, dataset,
                                                                       dims))
            except SplitFailed:  # a half did not parse: again in one piece, for the real error
                con.execute(f"delete from {target} where request_id = ?", [landed.request_id])
                return insert_chunks(con, target, sdmx_ml.parse_landed(landed, body, dataset,
                                                                       dims, halves=False))
        return sdmx_csv.insert_landed(con, target, landed, body, dataset, dims)
    if dataset.source == "genesis":
        from kmu_pipeline.parse import genesis_ffcsv

        return insert_chunks(con, target, genesis_ffcsv.parse_landed(landed, body, dataset))
    raise KmuError(f"no parser for source {dataset.source!r}", dataset=dataset.name)


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
    exists = con.execute("select count(*) from duckdb_tables() where schema_name || '.' || "
                         "table_name = ?", [dataset.table]).fetchone()[0]
    if not exists:
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
    with transaction(con):
        clock = time.perf_counter()
        create_observations_table(con, incoming)
        rows = sum(_insert(con, incoming, dataset, item, item.body_path(landing_root), catalogue)
                   for item in landed)
        seconds["load"] = time.perf_counter() - clock
        result = validate_table(con, incoming, Observations)
        seconds.update(result.seconds)
        if not result.passed:
            raise schema_error(result, dataset, url)
        clock = time.perf_counter()
        missing, had = lost_size_classes(con, dataset, incoming)
        if missing:
            raise SchemaError(f"size classes missing from the answer: {missing} (the last good "
                              f"data had {had})", dataset=dataset.name, url=url)
        seconds["keys"] += time.perf_counter() - clock
        clock = time.perf_counter()
        swap_in(con, incoming, dataset.table,
                description=f"{dataset.title}. Source: {dataset.source} {dataset.code}. Tidy "
                            f"observations as delivered; trace rows via request_id -> "
                            f"meta.requests.",
                column_comments=column_descriptions(Observations))
    seconds["swap"] = time.perf_counter() - clock  # with the commit
    return rows


def ensure_table(con, dataset: Dataset) -> None:
    """An empty raw table, so downstream SQL works before a dataset's first success."""
    create_observations_table(con, dataset.table, replace=False)


def _unchanged(con, dataset: Dataset, landed: list[Landed]) -> bool:
    row = con.execute("select sha256, status from meta.dataset_status where dataset = ?",
                      [dataset.table]).fetchone()
    return bool(row) and row[1] == "ok" and row[0] == ",".join(i.sha256 for i in landed)


def record_status(con, dataset: Dataset, report: IngestReport) -> None:
    landed = report.landed
    con.execute("""
        insert into meta.dataset_status as s values
            (?, ?, ?, ?, ?, ?, case when ? then now() end, now(), ?)
        on conflict (dataset) do update set
            status = excluded.status,
            rows = coalesce(excluded.rows, s.rows),
            request_ids = coalesce(excluded.request_ids, s.request_ids),
            urls = coalesce(excluded.urls, s.urls),
            sha256 = coalesce(excluded.sha256, s.sha256),
            last_success_at = coalesce(excluded.last_success_at, s.last_success_at),
            last_attempt_at = excluded.last_attempt_at,
            error = excluded.error
    """, [dataset.table, "ok" if report.ok else "stale",
          report.rows if report.ok else None,
          ",".join(i.request_id for i in landed) if report.ok else None,
          " ".join(i.url for i in landed) if report.ok else None,
          ",".join(i.sha256 for i in landed) if report.ok else None,
          report.ok, None if report.ok else str(report.error)])
    for item in landed:
        con.execute("insert or replace into meta.requests values (?, ?, ?, ?, ?, ?, ?)",
                    [item.request_id, dataset.table, item.url, item.retrieved_at, item.sha256,
                     item.content_type, item.headers.get("last-modified")])


def refresh_dataset(dataset: Dataset, *, client: HttpClient, base_url: str,
                    warehouse: Warehouse, run_id: str,
                    catalogue: Catalogue | None = None,
                    on_error: Callable[[KmuError], None] | None = None) -> IngestReport:
    """Bring one raw table up to date in this run's build; never raises a KmuError."""
    catalogue = catalogue or load_catalogue()
    report = IngestReport(dataset=dataset.name, table=dataset.table)
    clock = time.perf_counter()
    try:
        report.landed = _fetch(dataset, client, catalogue, base_url)
        report.seconds["fetch"] = time.perf_counter() - clock
        with warehouse.connect_build(run_id) as con:
            report.unchanged = _unchanged(con, dataset, report.landed)
            if report.unchanged:
                report.rows = con.execute(f"select count(*) from {dataset.table}").fetchone()[0]
                return report
            report.rows = load_dataset(con, dataset, report.landed, client.landing.root,
                                       catalogue, report.seconds)
            record_status(con, dataset, report)
        log.info("%s: %d observations", dataset.table, report.rows)
    except KmuError as exc:
        report.error = exc
        report.failure_cases = getattr(exc, "failure_cases", None)
        log.error("%s", exc)
        with warehouse.connect_build(run_id) as con:
            ensure_table(con, dataset)
            record_status(con, dataset, report)
        if on_error:
            on_error(exc)
    return report
