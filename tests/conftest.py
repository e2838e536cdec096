"""Shared fixtures: the reference data beside the repo, replay servers, temp warehouses."""

from __future__ import annotations

import shutil
from pathlib import Path

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


# The slowest files first, so that none is handed out last to run alone at the end. With
# `--dist loadfile` pytest-xdist hands out files in this order once `--no-loadscope-reorder`
# (pyproject) stops it from sorting them by their number of tests, which put the long
# single-test files (a whole kill-and-rerun sequence, ten refreshes under readers) last.
SLOW_FILES_FIRST = (
    "reliability/test_crash.py", "reliability/test_readers.py", "replay/test_charts.py",
    "replay/test_cli.py", "genesis/test_run_genesis.py", "replay/test_pipeline.py",
    "browser/test_dagster_ui.py", "replay/test_history.py", "reliability/test_warehouse_size.py",
    "replay/test_release_aware.py", "replay/test_desi.py", "reliability/test_partial_runs.py",
    "reliability/test_debris.py", "replay/test_data_dictionary_run.py",
    "replay/test_readme_queries.py", "replay/test_parallel.py", "test_bench_smoke.py",
    "replay/test_cli_input.py", "replay/test_upstream_observation.py",
    "reliability/test_real_upstreams.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0].removeprefix("tests/")
        return SLOW_FILES_FIRST.index(path) if path in SLOW_FILES_FIRST else len(SLOW_FILES_FIRST)

    items.sort(key=rank)  # stable: the other files, and the tests inside each, keep their order
