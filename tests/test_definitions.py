"""Snapshot of the Dagster graph: asset keys, their upstream deps and checks.

A change to the graph shows up here as a diff to review. Regenerate after an intended change
with KMU_UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kmu_pipeline.defs.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _graph() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {
        key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    }
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys)
    jobs = sorted(job.name for job in defs.resolve_all_job_defs()
                  if not job.name.startswith("__"))
    schedules = sorted(s.name for s in defs.schedules or [])
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": schedules}


def test_definitions_match_snapshot():
    current = _graph()
    if os.environ.get("KMU_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_catalogue_dataset_is_a_checked_asset_feeding_observations():
    graph = _graph()
    # codelists and DESI are raw tables of their own shape, not observations
    raw = [k for k in graph["assets"] if k.startswith("raw/")
           and k not in ("raw/eurostat__codelists", "raw/desi__desi")]
    assert raw and all(f"{k}:schema" in graph["checks"] for k in raw)
    assert set(raw) <= set(graph["assets"]["staging/observations"])
    assert "warehouse/published" in graph["assets"]
    assert "staging/observations:observations_schema" in graph["checks"]
