"""Shared fixtures: the reference data beside the repo, replay servers, temp warehouses."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from kmu_pipeline.replay import DEMO_SNAPSHOT, ReplayServer

REPO = Path(__file__).resolve().parents[1]
# Sources in tests retry once. The time bound leaves room for that one wait (1-2 s: backoff
# with jitter) on a loaded machine: at 2 s, a wait near 2 s made tenacity give up before the
# retry a test expects to succeed (test_secrets failed so in a CI run).
TEST_RETRIES = {"max_attempts": 2, "max_retry_seconds": 15}
# Real Eurostat/Destatis samples live beside the repo (../shared/reference) and are read from
# there, never copied in. A missing directory is an error, not a skip.
REFERENCE = (REPO / ".." / "shared" / "reference").resolve()


@pytest.fixture(scope="session")
def reference() -> Path:
    assert REFERENCE.is_dir(), f"reference data not found at {REFERENCE}"
    return REFERENCE


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo snapshot, for tests that alter a recording."""
    target = tmp_path / "recordings"
    shutil.copytree(DEMO_SNAPSHOT, target, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return target


@pytest.fixture
def demo_server():
    with ReplayServer(DEMO_SNAPSHOT) as server:
        yield server


def recorded_body(root: Path, dataset: str) -> Path:
    """The body file of a dataset's single data recording under `root`."""
    bodies = [b for b in root.glob(f"*/{dataset}/*/*.body")
              if not b.parent.name.startswith("dataflow_")]  # the flow's structure answer
    assert len(bodies) == 1, bodies
    return bodies[0]


def copy_workdir(run: Path, target: Path) -> Path:
    """A private copy of a run's folder (warehouse, record, base, charts, raw) that a test may
    change: the session's shared runs are only read."""
    shutil.copytree(run, target, symlinks=True)
    return target


def touch_published(db: Path) -> None:
    """Move the published file's time, as an analyst's write to it would: the next run
    publishes again even with nothing new (a run that changes nothing publishes nothing)."""
    stat = db.stat()
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def once_a_session(tmp_path_factory, worker_id: str, name: str, produce) -> tuple[Path, dict]:
    """`produce(folder) -> dict` (JSON), run once per test session in a folder of its own,
    by whichever xdist worker asks first: the others wait on its lock file, then read its
    record. Tests only read the folder; one that changes it works on a copy."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # every worker's basetemp is a folder of the session's
        root = root.parent
    folder, record = root / name, root / f"{name}.json"
    with open(root / f"{name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a worker killed mid-run left
            folder.mkdir()
            record.write_text(json.dumps(produce(folder)))
    return folder, json.loads(record.read_text())


@pytest.fixture(scope="session")
def readme_run(tmp_path_factory, worker_id) -> tuple[Path, SimpleNamespace]:
    """The README's first command, `kmu-pipeline run --replay`, in a fresh directory:
    (that directory, the finished command's returncode, stdout and stderr). A full run takes
    half a minute and four test files only check what it leaves: it runs once a session."""
    def run(folder: Path) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "kmu_pipeline.cli", "run", "--replay"], cwd=folder,
            env={**os.environ, "PYTHONWARNINGS": "ignore"}, capture_output=True, text=True,
            timeout=600)
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    folder, record = once_a_session(tmp_path_factory, worker_id, "readme_run", run)
    assert record["returncode"] == 0, record["stderr"][-3000:]
    return folder, SimpleNamespace(**record)


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory, worker_id) -> tuple[Path, str]:
    """Every asset and check materialised in process against the demo snapshot and published,
    once a session: (its folder, its run id). Tests that change it copy the folder."""
    def run(folder: Path) -> dict:
        from tests.replay.conftest import materialize_all

        result = materialize_all(DEMO_SNAPSHOT, folder)
        return {"success": result.success, "run_id": result.run_id}

    folder, record = once_a_session(tmp_path_factory, worker_id, "published_demo", run)
    assert record["success"]
    return folder, record["run_id"]
