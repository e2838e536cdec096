"""DuckDB warehouse: each run builds a private copy, then publishes it with one atomic rename.

DuckDB allows one writing process per file, and an analyst's open connection (even read-only)
holds a lock that would block a writer. So a run never writes the published file: it copies it
to data/.build/<run_id>.duckdb, writes there (writers of one run take turns under an flock), and
`publish` renames the finished build over data/kmu.duckdb, keeping the previous file as
kmu.prev.duckdb. Open connections keep reading the file they opened (POSIX rename semantics); new
connections see the new run, whole. A killed run leaves only its own build file behind, which
the next run ignores and `sweep_builds` removes.

A DuckDB file keeps the storage format it was created in, copies included, so the format is
chosen where a build is created (`_create_build`): one that DuckDB 1.x clients read.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)
SCHEMAS = ("raw", "staging", "marts", "meta")
STALE_BUILD_SECONDS = 6 * 3600
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

# DuckDB 2.0 creates files in storage formats numbered 69 and up, which no DuckDB 1.x client
# opens: the 1.5.6 CLI says "we can only read versions between 64 and 68" (2026-12, issue 15).
# Builds are created in the 1.0 format (64), which every DuckDB since 1.0 reads and DuckDB 1.2
# and later write; the number is what the file header says for it (checked in tests/unit).
STORAGE_VERSION = "v1.0.0"
STORAGE_NUMBER = 64


def connect(path: str = ":memory:", **overrides: str) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the pipeline's memory bound."""
    return duckdb.connect(path, config=duckdb_config(**overrides))

META_DDL = """
create table if not exists meta.dataset_status (
    dataset varchar primary key,      -- raw table, e.g. raw.eurostat__isoc_cicce_use
    status varchar not null,          -- ok | stale
    rows bigint,
    request_ids varchar,
    urls varchar,
    sha256 varchar,
    last_success_at timestamp,
    last_attempt_at timestamp,
    error varchar
);
create table if not exists meta.requests (
    request_id varchar primary key,
    dataset varchar,
    url varchar,
    retrieved_at varchar,
    sha256 varchar,
    content_type varchar,
    last_modified varchar
);
create table if not exists meta.runs (
    run_id varchar primary key,
    published_at timestamp,
    tables varchar
);
comment on table meta.dataset_status is 'Freshness of each raw table: ok or stale';
comment on column meta.dataset_status.dataset is 'Raw table, e.g. raw.eurostat__isoc_cicce_use';
comment on column meta.dataset_status.status is 'ok, or stale when the last refresh failed';
comment on column meta.dataset_status.rows is 'Rows in the raw table';
comment on column meta.dataset_status.request_ids is 'Landing request ids of the responses loaded';
comment on column meta.dataset_status.urls is 'Request URLs of the responses loaded';
comment on column meta.dataset_status.sha256 is 'SHA-256 of the response bodies loaded';
comment on column meta.dataset_status.last_success_at is 'Last successful refresh';
comment on column meta.dataset_status.last_attempt_at is 'When a refresh was last attempted';
comment on column meta.dataset_status.error is 'Why the last attempt failed (empty when ok)';
comment on table meta.requests is 'Every upstream response loaded: URL, time, checksum';
comment on column meta.requests.request_id is 'Landing request id (hash of the request)';
comment on column meta.requests.dataset is 'Catalogue dataset the request belongs to';
comment on column meta.requests.url is 'Request URL';
comment on column meta.requests.retrieved_at is 'When the response arrived (UTC, ISO 8601)';
comment on column meta.requests.sha256 is 'SHA-256 of the response body as received';
comment on column meta.requests.content_type is 'Content-Type of the response';
comment on column meta.requests.last_modified is 'Last-Modified header, if any';
comment on table meta.runs is 'Published runs: run id, time and the tables published';
comment on column meta.runs.run_id is 'Dagster run id';
comment on column meta.runs.published_at is 'When the run was published';
comment on column meta.runs.tables is 'Comma-separated tables in the published warehouse';
"""


class Warehouse:
    """The published DuckDB file and the per-run builds beside it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.build_dir = self.path.parent / ".build"

    @property
    def previous_path(self) -> Path:
        return self.path.with_suffix(".prev.duckdb")

    def build_path(self, run_id: str) -> Path:
        safe = "".join(ch for ch in run_id if ch.isalnum() or ch in "-_")[:64]
        return self.build_dir / f"{safe}.duckdb"

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
    def connect_build(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to this run's build, created from the published file."""
        with self._lock(run_id):
            build = self.build_path(run_id)
            if not build.exists():
                # a file stopped half-way must never pass for a build
                partial = build.with_suffix(".partial")
                partial.unlink(missing_ok=True)
                if self.path.exists() and storage_number(self.path) <= STORAGE_NUMBER:
                    shutil.copyfile(self.path, partial)
                else:
                    _create_build(partial, self.path if self.path.exists() else None)
                os.replace(partial, build)
            con = connect(str(build), **BUILD_SETTINGS)
            try:
                ensure_layout(con)
                yield con
            finally:
                con.close()

    def publish(self, run_id: str) -> list[str]:
        """Atomically make this run's build the published warehouse; return its tables."""
        with self._lock(run_id):
            build = self.build_path(run_id)
            if not build.exists():
                raise FileNotFoundError(f"run {run_id} has no build to publish at {build}")
            con = connect(str(build), **BUILD_SETTINGS)
            try:
                tables = [f"{s}.{t}" for s, t in con.execute(
                    "select schema_name, table_name from duckdb_tables() order by all").fetchall()]
                con.execute("insert or replace into meta.runs values (?, now(), ?)",
                            [run_id, ",".join(tables)])
                con.execute("checkpoint")
            finally:
                con.close()
            _fsync(build)
            if self.path.exists():
                _keep_previous(self.path, self.previous_path)
            os.replace(build, self.path)
            self._set_aside_wal(run_id)
            _fsync_dir(self.path.parent)
            build.with_suffix(".lock").unlink(missing_ok=True)
            log.info("published %s (%d tables) from run %s", self.path, len(tables), run_id)
            return tables

    def _set_aside_wal(self, run_id: str) -> None:
        """A read-write connection that wrote to the published file (an analyst not using
        read_only) keeps its write-ahead log beside it by name. It belongs to the file just
        replaced; left there, every reader of the new file fails ("Failure while replaying WAL
        ... checkpoint iteration does not match"). Move it where nothing opens it."""
        wal = Path(f"{self.path}.wal")
        if wal.exists():
            target = self.build_dir / f"orphaned-{self.build_path(run_id).stem}.wal"
            os.replace(wal, target)
            log.warning("a read-write connection had written to %s; its changes are not in the "
                        "new run (log moved to %s)", self.path, target)

    def sweep_builds(self, keep: str | None = None,
                     older_than: float = STALE_BUILD_SECONDS) -> list[Path]:
        """Remove builds of runs that died (older than `older_than` seconds)."""
        removed = []
        if not self.build_dir.exists():
            return removed
        now = time.time()
        for path in self.build_dir.iterdir():
            if keep and path.stem == Path(self.build_path(keep)).stem:
                continue
            if now - path.stat().st_mtime > older_than:
                if path.is_dir():  # DuckDB's spill directory of a build (<build>.duckdb.tmp)
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published warehouse (what analysts get)."""
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
    in a newer format (written by DuckDB 2 before STORAGE_VERSION was set) is copied over
    table by table, comments and keys included, so that the next publish is readable again."""
    con = connect(storage_compatibility_version=STORAGE_VERSION)
    try:
        con.execute("attach ? as build", [str(target)])
        if published is not None:
            log.warning("%s is in a storage format DuckDB 1.x cannot read; rewriting it in %s",
                        published, STORAGE_VERSION)
            con.execute("attach ? as published (read_only)", [str(published)])
            con.execute("copy from database published to build")
        con.execute("detach build")
    finally:
        con.close()


def _keep_previous(current: Path, previous: Path) -> None:
    """Hard-link the current file as .prev so the swap never leaves a moment with no file."""
    tmp = previous.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    os.link(current, tmp)
    os.replace(tmp, previous)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_layout(con: duckdb.DuckDBPyConnection) -> None:
    """The schemas and meta tables, in one transaction: a build has all of them or none (a step
    killed half-way through leaves them to the next one). One catalogue lookup when present."""
    (present,), = con.execute("select count(*) from duckdb_tables() where schema_name = 'meta'"
                              ).fetchall()
    if present == META_DDL.count("create table"):
        return
    with transaction(con):
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        con.execute(META_DDL)


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


def comment_table(con: duckdb.DuckDBPyConnection, table: str, description: str,
                  column_comments: Mapping[str, str]) -> None:
    # COMMENT ON takes only literals, so values go through a quoted literal, never raw text.
    if description:
        con.execute(f"comment on table {table} is {_literal(description)}")
    existing = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    for column, text in column_comments.items():
        if text and column in existing:
            con.execute(f'comment on column {table}."{column}" is {_literal(text)}')


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
