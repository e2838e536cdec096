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


@pytest.fixture(scope="session")
def readme_run(tmp_path_factory, worker_id) -> tuple[Path, SimpleNamespace]:
    """The README's first command, `kmu-pipeline run --replay`, in a fresh directory:
    (that directory, the finished command's returncode, stdout and stderr).

    A full run takes half a minute, and four test files check what this one leaves (the
    warehouse, the charts, the data dictionary, the progress lines), so it runs once per
    session: the first xdist worker to ask runs it under a lock file, the others read its
    record. Tests only read the directory; one that changes it works on a copy."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # every worker's basetemp is a folder of the session's
        root = root.parent
    workdir, record = root / "readme_run", root / "readme_run.json"
    with open(root / "readme_run.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            shutil.rmtree(workdir, ignore_errors=True)  # what a worker killed mid-run left
            workdir.mkdir()
            done = subprocess.run(
                [sys.executable, "-m", "kmu_pipeline.cli", "run", "--replay"], cwd=workdir,
                env={**os.environ, "PYTHONWARNINGS": "ignore"}, capture_output=True, text=True,
                timeout=600)
            record.write_text(json.dumps({"returncode": done.returncode, "stdout": done.stdout,
                                          "stderr": done.stderr}))
    run = SimpleNamespace(**json.loads(record.read_text()))
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir, run
