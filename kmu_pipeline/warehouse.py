"""DuckDB warehouse: one run = one build = one atomic publish, whatever the run selected.

DuckDB allows one writing process per file, and an analyst's open connection (even read-only)
holds a lock that would block a writer. So a run never writes the published file. Its first
step copies the private base of the published generation (.published/base-<n>.duckdb, never
the file analysts open, so their read-write edits and WALs never reach a build) to
data/.build/<run_id>.duckdb; steps write there, taking turns under an flock, and charts are
drawn beside it. The run's last step publishes (defs/publish.py): under one lock for all runs,
a build started from an older generation is refused (another run published meanwhile); else
the build becomes the new base, the record naming it is replaced (the commit point), a copy is
renamed over data/kmu.duckdb (the previous file kept as kmu.prev.duckdb), then the run's
charts are moved into data/charts. A run that changed nothing publishes nothing
(`note_change`). Open connections keep reading the file they opened (POSIX
rename semantics); new ones see the new run, whole. Every process of a run holds a lease (a
shared flock) on its build; a run starting a build removes the files of runs whose lease
nobody holds, i.e. whose processes died.

A DuckDB file keeps the storage format it was created in, copies included, so the format is
chosen where a build is created (`_create_build`): one that DuckDB 1.3 and later read.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from kmu_pipeline.errors import PublishConflict
from kmu_pipeline.history import HISTORY, ensure_history
from kmu_pipeline.machine import fit_threads
from kmu_pipeline.publication import (
    PublishRecord,
    file_identity,
    fsync,
    fsync_dir,
    hold_lease,
    keep_previous,
    move_charts,
    publish_lock,
    read_record,
    release_lease,
    set_aside_wal,
    sweep_chart_temps,
    sweep_dead_builds,
    write_record,
)
from kmu_pipeline.schemas import (
    META_MODELS,
    base_tables,
    column_descriptions,
    column_types,
    comment_table,
    create_table,
    described_columns,
)

log = logging.getLogger(__name__)
SCHEMAS = ("raw", "staging", "marts", "meta")
# DuckDB's default memory limit is 80% of RAM, and it keeps what it reads and writes cached up
# to that: a 5M-row load peaked at 1.3 GB; bounded at 128 MB it spills and is no slower (bench/).
MEMORY_LIMIT_ENV = "KMU_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "128MB"


def duckdb_config(**overrides: str) -> dict[str, str]:
    """Settings for the connections the pipeline writes with (KMU_DUCKDB_MEMORY_LIMIT overrides
    the warehouse's bound). Row order of a raw table carries no meaning, and not preserving it
    lets DuckDB stream large loads instead of buffering them."""
    limit = os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    return {"memory_limit": limit, "preserve_insertion_order": "false", **overrides}


# A parallel load leaves each thread's last row group part-full, sometimes a few rows mid-table.
# A checkpoint's vacuum merges such a group by rewriting every row group after it: 0.2 s for a
# 500k-row SDMX-CSV load, half the time of the load itself (bench/). Raw tables are replaced
# whole and marts re-created, so there are no deleted rows for vacuum to reclaim, and a short
# row group costs a query nothing measurable.
BUILD_SETTINGS = {"max_vacuum_tasks": "0"}

# Every table and view an analyst can query (history.observations is a view): schema, name,
# kind, comment and DuckDB's estimate of its rows (NULL for a view).
RELATIONS = ("select schema_name, table_name as name, 'table' as kind, comment, estimated_size "
             "from duckdb_tables() where not internal union all "
             "select schema_name, view_name, 'view', comment, null from duckdb_views() "
             "where not internal")


# DuckDB 2.0 creates files in storage formats numbered 69 and up, which no DuckDB 1.x client
# opens: the 1.5.6 CLI says "we can only read versions between 64 and 68" (2026-12, issue 15).
# Builds are created in the 1.3 format (66), which DuckDB 1.3 and later read: the oldest format
# with 1.3's string compression. Writing the 1.0 format (64) took 35-40% more CPU for a 500k-row
# SDMX-CSV load (1.55-1.61 s against 1.12-1.25 s for 1.3, 1.4, 1.5 and 2.0's own; 1.2 (65):
# 1.47 s), and its files were 7-13% larger (bench/RESULTS.md). The number is what the file
# header says for it (checked in tests/unit).
STORAGE_VERSION = "v1.3.0"
STORAGE_NUMBER = 66


def connect(path: str = ":memory:", **overrides: str) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the pipeline's memory bound, and no more threads than the process
    has CPUs (fit_threads)."""
    con = duckdb.connect(path, config=duckdb_config(**overrides))
    if "threads" not in overrides:
        fit_threads(con)
    return con



@dataclass(frozen=True)
class PublishResult:
    """What a publish did: `published` False says why in `reason` (nothing was built)."""

    published: bool
    reason: str = ""
    generation: int = 0
    tables: tuple[str, ...] = ()
    stale: tuple[tuple[str, str], ...] = ()
    charts: tuple[Path, ...] = ()
    base: Path | None = None
    unchanged: bool = False  # not published because the run changed nothing


class Warehouse:
    """The published DuckDB file, the private base it was copied from, and the per-run builds."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.build_dir = self.path.parent / ".build"
        self.state_dir = self.path.parent / ".published"
        self.charts_dir = self.path.parent / "charts"

    @property
    def previous_path(self) -> Path:
        return self.path.with_suffix(".prev.duckdb")

    def build_path(self, run_id: str) -> Path:
        safe = "".join(ch for ch in run_id if ch.isalnum() or ch in "-_")[:64]
        return self.build_dir / f"{safe}.duckdb"

    def build_charts_dir(self, run_id: str) -> Path:
        """Where this run's charts wait for its publish (moved to charts_dir by it)."""
        return self.build_path(run_id).with_suffix(".charts")

    def record(self) -> PublishRecord:
        return read_record(self.state_dir)

    def note_change(self, run_id: str, what: str) -> None:
        """Say that this run's build holds something the published generation does not: a
        table's data or columns, a dataset's recorded state, a chart. Only a run that noted a
        change publishes; the others' checks leave the warehouse, its charts and the file
        analysts have open as they were (publish)."""
        _note_change(self.build_path(run_id), what)

    @contextmanager
    def _lock(self, run_id: str) -> Iterator[None]:
        """One writer at a time per build (Dagster may run steps in several processes)."""
        self.build_dir.mkdir(parents=True, exist_ok=True)
        lock_path = self.build_path(run_id).with_suffix(".lock")
        with open(lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released by the kernel if the process dies
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def connect_build(self, run_id: str, *,
                      counts_as_change: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to this run's build, started from the published generation.
        A block that ends without raising counts as a change to publish (note_change), unless
        `counts_as_change=False`: a caller that only reads, or notes what it changed itself."""
        self.build_dir.mkdir(parents=True, exist_ok=True)
        hold_lease(self.build_path(run_id).with_suffix(".lease"))
        with self._lock(run_id):
            build = self.build_path(run_id)
            if not build.exists():
                if build in _KEPT:  # a file swept since: its connection goes with it
                    _KEPT.pop(build).close()
                self._start_build(build)
            con = _KEPT.pop(build, None) or _open_build(build)
            try:
                yield con
            except BaseException:
                con.close()  # whatever state the failure left it in goes with it
                raise
            if _KEEPING:
                con.abort()  # no result left pending for the next step
                _KEPT[build] = con
            else:
                con.close()
            if counts_as_change:
                _note_change(build, "a write")

    def _start_build(self, build: Path) -> None:
        """Sweep the debris of dead runs, then copy the private base of the published
        generation (never the file analysts open) and note which generation it is."""
        removed = sweep_dead_builds(self.build_dir) + sweep_chart_temps(self.charts_dir)
        if removed:
            log.info("removed %d files of dead runs: %s", len(removed),
                     ", ".join(p.name for p in removed[:10]))
        with publish_lock(self.state_dir, shared=True):
            record = self.record()
            base = self.state_dir / record.base_name()
            if record.generation == 0 and self.path.exists():
                base = self.path  # published before this record existed: the file is the base
            build.with_suffix(".base").write_text(str(record.generation), encoding="utf-8")
            # a file stopped half-way must never pass for a build
            partial = build.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            if base.exists() and storage_number(base) == STORAGE_NUMBER:
                shutil.copyfile(base, partial)
            else:  # a first build, or a base in another format (1.x clients, speed): once
                _create_build(partial, base if base.exists() else None)
                _note_change(build, "storage format")
            os.replace(partial, build)

    def finish_step(self, run_id: str, step: str, planned: set[str]) -> PublishResult | None:
        """Note `step` of the run done; the step that completes `planned` publishes the run
        (exactly one: the notes are taken in turn under the run's lock)."""
        hold_lease(self.build_path(run_id).with_suffix(".lease"))
        with self._lock(run_id):
            notes = self.build_path(run_id).with_suffix(".steps")
            done_before = set(notes.read_text(encoding="utf-8").split() if notes.exists() else [])
            with open(notes, "a", encoding="utf-8") as fh:
                fh.write(f"{step}\n")
            last = bool(planned - done_before) and not planned - done_before - {step}
        return self.publish(run_id) if last else None

    def publish(self, run_id: str) -> PublishResult:
        """Make this run's build the published warehouse in one rename; its charts follow.

        Serialised with every other publish; refuses a build started from an older generation
        than the published one (another run published in between), so newer data is never
        replaced by older. A run without a build has nothing to publish.
        """
        build = self.build_path(run_id)
        try:
            # the order connect_build takes them in: run, then publish
            with self._lock(run_id), publish_lock(self.state_dir):
                if not build.exists():
                    return PublishResult(False, reason=f"run {run_id} built nothing (no step of "
                                                       f"it wrote to the warehouse): nothing to "
                                                       f"publish")
                record = self.record()
                if not build.with_suffix(".changes").exists() and self._as_published(record):
                    return self._discard(run_id, build, record)
                started_from = int(build.with_suffix(".base").read_text(encoding="utf-8"))
                if started_from != record.generation:
                    raise PublishConflict(
                        f"another run published newer data at {record.published_at} (run "
                        f"{record.run_id}, generation {record.generation}) while run {run_id} "
                        f"was building on generation {started_from}; this run's build is "
                        f"discarded, run it again to build on the newer data")
                result = self._commit(run_id, build, record.generation + 1)
        finally:  # published, refused or failed: the build is done with
            release_lease(build.with_suffix(".lease"))
            sweep_dead_builds(self.build_dir)
        if result.published:
            log.info("published %s (%d tables) from run %s", self.path, len(result.tables),
                     run_id)
        return result

    def _as_published(self, record: PublishRecord) -> bool:
        """The file analysts open is the copy the record published: nobody wrote to it since
        (an edit there is undone by publishing again, whatever the run found)."""
        if record.file is None:  # nothing published yet, or by a version that kept no identity
            return False
        intact = (file_identity(self.path) == record.file
                  and not Path(f"{self.path}.wal").exists())
        if not intact:
            log.warning("%s changed since run %s published it: publishing it again", self.path,
                        record.run_id)
        return intact

    def _discard(self, run_id: str, build: Path, record: PublishRecord) -> PublishResult:
        """A run that found every dataset unchanged upstream and rebuilt every table and chart
        as published: a new generation would differ only in the times of its checks, and
        would cost a copy of the whole warehouse for each file. Its build is removed."""
        kept = _KEPT.pop(build, None)
        if kept is not None:  # no checkpoint: the file and its WAL are about to go
            kept.execute("pragma disable_checkpoint_on_shutdown")
            kept.close()
        still = (f"{self.path} stays generation {record.generation} (run {record.run_id}, "
                 f"published at {record.published_at})" if record.run_id
                 else f"nothing was published before, so {self.path} does not exist")
        log.info("run %s changed nothing: %s", run_id, still)
        return PublishResult(False, reason=f"run {run_id} changed nothing (every dataset "
                                           f"unchanged upstream, every table and chart as "
                                           f"published): {still}",
                             generation=record.generation, unchanged=True)

    def _commit(self, run_id: str, build: Path, generation: int) -> PublishResult:
        """Under the publish lock: build -> private base, record (the commit point), then the
        copy analysts see, then the charts; a kill before the record leaves nothing changed,
        after it the next run builds on this one."""
        tables, stale = _finish_build(build, run_id)
        base = self.state_dir / PublishRecord(generation).base_name()
        os.replace(build, base)
        publishing = self.path.with_name(f".{self.path.name}.{build.stem}.publishing")
        shutil.copyfile(base, publishing)
        fsync(publishing)
        if self.path.exists():
            keep_previous(self.path, self.previous_path, build.stem)
        write_record(self.state_dir, PublishRecord(generation, run_id,
                                                   datetime.now(UTC).isoformat(timespec="seconds"),
                                                   file_identity(publishing)))
        wal_aside = self.build_dir / f"orphaned-{build.stem}"
        set_aside_wal(self.path, wal_aside)  # before the rename: never beside the new file
        os.replace(publishing, self.path)
        set_aside_wal(self.path, wal_aside)  # one an analyst wrote in between
        fsync_dir(self.path.parent)
        charts = move_charts(self.build_charts_dir(run_id), self.charts_dir)
        for old in self.state_dir.glob("base-*.duckdb"):
            if old != base:
                old.unlink()
        return PublishResult(True, generation=generation, tables=tables, stale=stale,
                             charts=charts, base=base)

    def sweep_builds(self) -> list[Path]:
        """Remove the builds (and their partial copies, staged charts, locks) of dead runs."""
        return sweep_dead_builds(self.build_dir)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published warehouse (what analysts get)."""
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a directory, not a DuckDB warehouse file")
        if not self.path.exists():
            raise FileNotFoundError(f"no warehouse at {self.path}; `kmu-pipeline run` builds one")
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            yield con
        finally:
            con.close()


def storage_number(path: Path) -> int:
    """The storage format number in a DuckDB file's header. Read from the bytes, not through
    DuckDB: an analyst's read-write connection would lock a DuckDB reader out."""
    with open(path, "rb") as fh:
        header = fh.read(20)  # 8-byte checksum, b"DUCK", little-endian u64 format number
    if header[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database file")
    return int.from_bytes(header[12:20], "little")


def _create_build(target: Path, published: Path | None) -> None:
    """A new file in STORAGE_VERSION holding the published warehouse, if any. A published file
    in another format (DuckDB 2's own, which 1.x clients cannot read, or the 1.0 format of
    earlier releases) is copied over table by table, comments and keys included, once."""
    con = connect(storage_compatibility_version=STORAGE_VERSION)
    try:
        con.execute("attach ? as build", [str(target)])
        if published is not None:
            log.warning("%s is in storage format %d, not %d (%s); rewriting it in %s",
                        published, storage_number(published), STORAGE_NUMBER, STORAGE_VERSION,
                        STORAGE_VERSION)
            con.execute("attach ? as published (read_only)", [str(published)])
            con.execute("copy from database published to build")
        con.execute("detach build")
    finally:
        con.close()


# A run's build connection kept open from step to step by a process that runs every step of
# the run (`kmu-pipeline run`; keep_builds_open): opening a build costs ~17 ms to create a
# DuckDB instance and ~11 ms to checkpoint at its close, per step, which is most of a refresh
# that finds nothing new (bench/RESULTS.md). Never where steps run in other processes: DuckDB
# lets one process at a time open a file, so there each step opens the build under the run's
# lock and closes it. The publish checkpoints and closes it (_finish_build).
_KEPT: dict[Path, duckdb.DuckDBPyConnection] = {}
_KEEPING = False


@contextmanager
def keep_builds_open() -> Iterator[None]:
    """Within the block, this process's build connections stay open between steps; closed
    when the block ends (a run that stopped before its publish)."""
    global _KEEPING
    _KEEPING = True
    try:
        yield
    finally:
        _KEEPING = False
        while _KEPT:
            _KEPT.popitem()[1].close()


def _open_build(build: Path) -> duckdb.DuckDBPyConnection:
    con = connect(str(build), **BUILD_SETTINGS)
    try:
        if ensure_layout(con):
            _note_change(build, "layout")
    except BaseException:
        con.close()
        raise
    return con


def _note_change(build: Path, what: str) -> None:
    """One line in the build's `.changes`, which the run's publish looks for (a line each, so
    the steps of a multiprocess run can all append)."""
    with open(build.with_suffix(".changes"), "a", encoding="utf-8") as fh:
        fh.write(f"{what}\n")


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple | None:
    """The table's columns (name, type, comment), its comment, its row count and an
    order-free digest of its rows; None when it does not exist. Equal before and after a
    rebuild: the rebuild changed nothing."""
    schema, _, name = table.rpartition(".")
    comment = con.execute("select comment from duckdb_tables() where schema_name = ? and "
                          "table_name = ?", [schema or "main", name]).fetchone()
    if comment is None:
        return None
    # a sum of row hashes, not bit_xor: two equal rows must not cancel out
    return (*comment, described_columns(con, table),
            *con.execute(f"select count(*), sum(hash(t)::hugeint) from {table} t").fetchone())


def _finish_build(build: Path, run_id: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Add the run to meta.runs and checkpoint; return the tables and the stale datasets."""
    con = _KEPT.pop(build, None) or connect(str(build), **BUILD_SETTINGS)
    try:
        tables = tuple(base_tables(con))
        con.execute("insert or replace into meta.runs values (?, now(), ?)",
                    [run_id, ",".join(tables)])
        stale = tuple(con.execute("select dataset, error from meta.dataset_status "
                                  "where status = 'stale' order by dataset").fetchall())
        con.execute("checkpoint")
    finally:
        con.close()
    fsync(build)
    return tables, stale


def ensure_layout(con: duckdb.DuckDBPyConnection) -> bool:
    """The schemas, the meta tables (schemas.META_MODELS) and the history's tables and view, in
    one transaction: a build has all of them or none (a step killed half-way through leaves
    them to the next one). A warehouse published before a model gained a column gets it added
    (NULL for the old rows). One catalogue lookup when everything is present. The history is
    part of the layout, not of a dataset's first load, so no load pays for creating it.
    Returns whether anything was created or added."""
    wanted = {(table, column) for table, model in META_MODELS.items()
              for column in column_types(model)}
    present = set(con.execute(
        "select schema_name || '.' || table_name, column_name from duckdb_columns() "
        "where schema_name in ('meta', 'history')").fetchall())
    if wanted <= present and HISTORY in {table for table, _ in present}:
        return False
    with transaction(con):
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        existing = {table for table, _ in present}
        for table, model in META_MODELS.items():
            create_table(con, table, model, replace=False)
            for column, kind in column_types(model).items():
                if table in existing and (table, column) not in present:
                    column_type = kind.removesuffix(" primary key")  # one column's type: no key
                    con.execute(f"alter table {table} add column if not exists {column} "
                                f"{column_type}")
            comment_table(con, table, model.__doc__.partition(": ")[2].strip(),
                          column_descriptions(model))
        ensure_history(con)
    return True


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def swap_in(con: duckdb.DuckDBPyConnection, incoming: str, table: str, *, description: str,
            column_comments: Mapping[str, str]) -> None:
    """Put the loaded `incoming` table in place of `table`, with comments, inside the caller's
    transaction (readers of the build see the old table or the new one, never a mix)."""
    con.execute(f"drop table if exists {table}")
    con.execute(f"alter table {incoming} rename to {table.rpartition('.')[2]}")
    comment_table(con, table, description, column_comments)


def replace_table(con: duckdb.DuckDBPyConnection, table: str, select_sql: str,
                  params: Mapping | list | None = None, *, description: str = "",
                  column_comments: Mapping[str, str] | None = None) -> int:
    """create or replace `table` from a query, with comments, in one transaction."""
    with transaction(con):
        con.execute(f"create or replace table {table} as {select_sql}", params)
        comment_table(con, table, description, column_comments or {})
        return con.execute(f"select count(*) from {table}").fetchone()[0]
