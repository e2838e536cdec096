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
