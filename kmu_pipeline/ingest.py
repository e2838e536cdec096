"""fetch -> land -> parse -> validate -> load, for one catalogue dataset.

This is what a raw asset calls and what bench/ measures: one code path. Parsing and
validation stream in chunks into a Parquet stage file, outside any DuckDB lock, so datasets can
be downloaded and parsed in parallel; only the final load (a Parquet scan inside one
transaction) takes the build's write lock. A failed dataset leaves its last good table in place
and is marked stale in meta.dataset_status.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kmu_pipeline.catalogue import Catalogue, Dataset, load_catalogue
from kmu_pipeline.errors import KmuError, SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse import sdmx_csv, sdmx_ml
from kmu_pipeline.schemas import (
    OBSERVATION_COLUMNS,
    OBSERVATION_KEY,
    Observations,
    column_descriptions,
)
from kmu_pipeline.sources import eurostat
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.validation import validate_frame
from kmu_pipeline.warehouse import Warehouse, replace_table

log = logging.getLogger(__name__)
DUCKDB_TYPES = {"source": "varchar", "year": "integer", "value": "double"}


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
    # Wall seconds per phase: fetch, stage (parse + validate), validate (pandera), load.
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


def _parser(dataset: Dataset, landed: Landed, body: Path,
            catalogue: Catalogue) -> Iterator[pd.DataFrame]:
    if dataset.source == "eurostat":
        dims = list(catalogue.sources["eurostat"].options["dimensions"])
        with open(body, "rb") as fh:
            xml = fh.read(64).lstrip().startswith(b"<")
        module = sdmx_ml if xml and "xml" in landed.content_type else sdmx_csv
        return module.parse_landed(landed, body, dataset, dims)
    if dataset.source == "genesis":
        from kmu_pipeline.parse import genesis_ffcsv

        return genesis_ffcsv.parse_landed(landed, body, dataset)
    raise KmuError(f"no parser for source {dataset.source!r}", dataset=dataset.name)


def validate_chunk(chunk: pd.DataFrame, dataset: Dataset, url: str,
                   seen: dict[str, set] | None = None) -> pd.DataFrame:
    """pandera on one chunk; failure cases travel with the error for the asset check."""
    valid, cases = validate_frame(chunk[OBSERVATION_COLUMNS], Observations, seen)
    if cases is None:
        return valid
    summary = (cases.groupby(["column", "check"], dropna=False).size()
               .sort_values(ascending=False).head(8))
    text = "; ".join(f"{col or 'row'}: {chk} ({n} rows)" for (col, chk), n in summary.items())
    raise SchemaError(f"observations fail the schema: {text}", dataset=dataset.name,
                      url=url, failure_cases=cases.head(50))


def stage_observations(dataset: Dataset, landed: list[Landed], landing_root: Path,
                       stage_file: Path, catalogue: Catalogue,
                       seconds: dict[str, float] | None = None) -> int:
    """Parse and validate every landed body into one Parquet file; return the row count.

    `seconds["validate"]` accumulates the time spent in pandera (bench/ reports its share).
    """
    stage_file.parent.mkdir(parents=True, exist_ok=True)
    seconds = {} if seconds is None else seconds
    seconds.setdefault("validate", 0.0)
    seen: dict[str, set] = {}  # string values validated in earlier chunks
    arrow_schema = None
    writer = None
    rows = 0
    try:
        for item in landed:
            for chunk in _parser(dataset, item, item.body_path(landing_root), catalogue):
                started = time.perf_counter()
                valid = validate_chunk(chunk, dataset, item.url, seen)
                seconds["validate"] += time.perf_counter() - started
                table = pa.Table.from_pandas(valid, preserve_index=False)
                if writer is None:
                    arrow_schema = table.schema
                    # statistics serve filter pushdown; the stage is only ever read whole
                    writer = pq.ParquetWriter(stage_file, arrow_schema, write_statistics=False)
                writer.write_table(table.cast(arrow_schema))
                rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # a valid answer with no rows: publish an empty table, not an error
        empty = Observations.validate(pd.DataFrame({c: [] for c in OBSERVATION_COLUMNS}))
        pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), stage_file)
    return rows


def release_memory() -> None:
    """Return what parsing freed to the OS before DuckDB's load allocates its own: Python's,
    Arrow's and glibc's allocators keep freed memory, and a 5M-row load then peaked 50 MB higher
    (bench/)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def duplicate_keys(con, stage_file: Path) -> pd.DataFrame:
    """Keys that occur more than once in the stage (up to 5), with their counts.

    Grouping 64-bit hashes of the key needs a fifth of the memory and time of grouping its eight
    strings (5M rows: 0.5 s vs 2.2 s at DuckDB's 128 MB bound); equal keys have equal hashes,
    so only colliding hashes are then grouped by the key itself.
    """
    keys = ", ".join(OBSERVATION_KEY)
    collisions = [h for (h,) in con.execute(
        f"select h from (select hash({keys}) as h from read_parquet(?)) "
        f"group by h having count(*) > 1 limit 1000", [str(stage_file)]).fetchall()]
    if not collisions:
        return pd.DataFrame(columns=[*OBSERVATION_KEY, "n"])
    return con.execute(
        f"select {keys}, count(*) as n from read_parquet(?) where list_contains(?, hash({keys})) "
        f"group by all having count(*) > 1 limit 5", [str(stage_file), collisions]).fetchdf()


def lost_size_classes(con, dataset: Dataset, stage_file: Path) -> tuple[list[str], list[str]]:
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
    present = {s for (s,) in con.execute(
        "select distinct size_class from read_parquet(?)", [str(stage_file)]).fetchall()}
    return (sorted(had - present) if present else []), sorted(had)


def load_stage(con, dataset: Dataset, stage_file: Path, landed: list[Landed]) -> int:
    """Check keys across chunks, then swap the raw table in one transaction."""
    dupes = duplicate_keys(con, stage_file)
    if len(dupes):
        raise SchemaError(f"duplicate observation keys (multiple_fields_uniqueness of "
                          f"{', '.join(OBSERVATION_KEY)}), e.g. {dupes.to_dict('records')[:3]}",
                          dataset=dataset.name, url=landed[0].url, failure_cases=dupes)
    missing, had = lost_size_classes(con, dataset, stage_file)
    if missing:
        raise SchemaError(f"size classes missing from the answer: {missing} (the last good data "
                          f"had {had})", dataset=dataset.name, url=landed[0].url)
    return replace_table(
        con, dataset.table, "select * from read_parquet(?)", [str(stage_file)],
        description=f"{dataset.title}. Source: {dataset.source} {dataset.code}. "
                    f"Tidy observations as delivered; trace rows via request_id -> meta.requests.",
        column_comments=column_descriptions(Observations),
    )


def ensure_table(con, dataset: Dataset) -> None:
    """An empty raw table, so downstream SQL works before a dataset's first success."""
    cols = ", ".join(f"{c} {DUCKDB_TYPES.get(c, 'varchar')}" for c in OBSERVATION_COLUMNS)
    con.execute(f"create table if not exists {dataset.table} ({cols})")


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
    stage_file = warehouse.build_dir / f"{run_id}.stage" / f"{dataset.asset_name}.parquet"
    clock = time.perf_counter()
    try:
        report.landed = _fetch(dataset, client, catalogue, base_url)
        report.seconds["fetch"] = time.perf_counter() - clock
        with warehouse.connect_build(run_id) as con:
            report.unchanged = _unchanged(con, dataset, report.landed)
            if report.unchanged:
                report.rows = con.execute(f"select count(*) from {dataset.table}").fetchone()[0]
                return report
        clock = time.perf_counter()
        staged = stage_observations(dataset, report.landed, client.landing.root, stage_file,
                                    catalogue, report.seconds)
        report.seconds["stage"] = time.perf_counter() - clock
        release_memory()
        clock = time.perf_counter()
        with warehouse.connect_build(run_id) as con:
            report.rows = load_stage(con, dataset, stage_file, report.landed)
            record_status(con, dataset, report)
        report.seconds["load"] = time.perf_counter() - clock
        log.info("%s: %d observations (%d staged)", dataset.table, report.rows, staged)
    except KmuError as exc:
        report.error = exc
        report.failure_cases = getattr(exc, "failure_cases", None)
        log.error("%s", exc)
        with warehouse.connect_build(run_id) as con:
            ensure_table(con, dataset)
            record_status(con, dataset, report)
        if on_error:
            on_error(exc)
    finally:
        stage_file.unlink(missing_ok=True)
    return report
