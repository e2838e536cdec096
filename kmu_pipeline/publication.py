"""What is published, and which builds are alive: the bookkeeping behind Warehouse.publish.

The record (`.published/record.json`) is the commit point of a publish: it names the generation,
the run and the private base copy (`.published/base-<generation>.duckdb`) that the next build
starts from. Analysts only ever see data/kmu.duckdb, so nothing they do to it (a read-write
connection deleting rows, adding a table, leaving a WAL) reaches a later build.

A build is alive while a process of its run holds a shared flock on its lease file; the kernel
drops the lock when the process dies, so a build whose lease nobody holds belongs to a dead run,
whatever its age.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from kmu_pipeline.atomic import write_json

log = logging.getLogger(__name__)
# lease files held by this process, by path: the open file keeps the flock until process exit
_HELD: dict[Path, object] = {}


@dataclass(frozen=True)
class PublishRecord:
    """The published generation: 0 before the first publish."""

    generation: int = 0
    run_id: str | None = None
    published_at: str | None = None
    file: list[int] | None = None  # file_identity of the copy analysts open, as published

    def base_name(self) -> str:
        return f"base-{self.generation}.duckdb"


def read_record(state_dir: Path) -> PublishRecord:
    path = state_dir / "record.json"
    if not path.exists():
        return PublishRecord()
    return PublishRecord(**json.loads(path.read_text(encoding="utf-8")))


def write_record(state_dir: Path, record: PublishRecord) -> None:
    """Replace the record atomically (a unique temp name: publishes never share one)."""
    write_json(state_dir / "record.json", asdict(record), durable=True)


@contextmanager
def publish_lock(state_dir: Path, *, shared: bool = False) -> Iterator[None]:
    """Exclusive for a publish; shared while a run copies the base (so no publish removes it
    mid-copy). Concurrent runs wait here rather than interleave their renames."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "publish.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def hold_lease(path: Path) -> None:
    """Mark a build alive for as long as this process lives (or until release_lease)."""
    if path in _HELD:
        return
    while True:
        fh = open(path, "a+")  # noqa: SIM115  (kept open: the open file is the lease)
        fcntl.flock(fh, fcntl.LOCK_SH)
        # a sweep may have removed the file between open and flock: lock the one on disk
        if path.exists() and os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino:
            break
        fh.close()
    _HELD[path] = fh


def release_lease(path: Path) -> None:
    fh = _HELD.pop(path, None)
    if fh is not None:
        fh.close()


def is_leased(path: Path) -> bool:
    """True while some process (this one included) holds the lease at `path`."""
    if path in _HELD:
        return True
    try:
        fh = open(path)  # noqa: SIM115
    except FileNotFoundError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def remove(path: Path) -> None:
    """A file or a directory (DuckDB's spill folder, a build's chart folder), if present."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep_dead_builds(build_dir: Path) -> list[Path]:
    """Remove every file of every run whose lease nobody holds: its build, the half-copied
    `.partial`, its write lock, charts staged for it (temp files included), DuckDB's spill
    folder. Files of live runs stay."""
    if not build_dir.exists():
        return []
    by_run: dict[str, list[Path]] = {}
    for path in build_dir.iterdir():
        if path.name.startswith("orphaned-"):  # an analyst's set-aside WAL, kept for them
            continue
        by_run.setdefault(path.name.split(".", 1)[0], []).append(path)
    removed = []
    for stem, paths in by_run.items():
        if is_leased(build_dir / f"{stem}.lease"):
            continue
        for path in paths:
            remove(path)
            removed.append(path)
    return removed


def sweep_chart_temps(charts_dir: Path) -> list[Path]:
    """Half-written chart files left in data/charts by runs of earlier versions, which drew
    there directly (charts are now staged in the run's build folder)."""
    if not charts_dir.is_dir():
        return []
    temps = [p for p in charts_dir.iterdir() if p.name.startswith(".") and p.suffix == ".png"]
    for path in temps:
        path.unlink(missing_ok=True)
    return temps


def move_charts(staged: Path, charts_dir: Path) -> tuple[Path, ...]:
    """Move the charts a run drew (staged in its build folder) into charts_dir, one rename
    each; half-drawn temp files stay behind for the sweep."""
    if not staged.is_dir():
        return ()
    charts_dir.mkdir(parents=True, exist_ok=True)
    moved = []
    for picture in sorted(staged.iterdir()):
        if picture.name.startswith("."):
            continue
        os.replace(picture, charts_dir / picture.name)
        moved.append(charts_dir / picture.name)
    fsync_dir(charts_dir)
    return tuple(moved)


def set_aside_wal(published: Path, target_prefix: Path) -> None:
    """A read-write connection that wrote to the published file (an analyst not using
    read_only) keeps its write-ahead log beside it by name. It belongs to the file being
    replaced; left there, every reader of the new file fails ("Failure while replaying WAL
    ... checkpoint iteration does not match"). Move it where nothing opens it."""
    wal = Path(f"{published}.wal")
    if wal.exists():
        target = target_prefix.with_name(f"{target_prefix.name}-{time.time_ns()}.wal")
        os.replace(wal, target)
        log.warning("a read-write connection had written to %s; its changes are not in the "
                    "new run (log moved to %s)", published, target)


def keep_previous(current: Path, previous: Path, token: str) -> None:
    """Hard-link the current file as .prev so the swap never leaves a moment with no file;
    the temp name is the run's own."""
    tmp = previous.with_name(f".{previous.name}.{token}.tmp")
    tmp.unlink(missing_ok=True)
    os.link(current, tmp)
    os.replace(tmp, previous)


def file_identity(path: Path) -> list[int] | None:
    """Size and modification time: a connection that writes to the file (an analyst ignoring
    read_only) changes them; a copy that keeps the time (`cp -p`, a backup restored) does not."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
