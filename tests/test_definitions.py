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
    blocking = sorted(f"{key.asset_key.to_user_string()}:{key.name}"
                      for key in graph.asset_check_keys if graph.get_check_spec(key).blocking)
    jobs = sorted(job.name for job in defs.resolve_all_job_defs()
                  if not job.name.startswith("__"))
    schedules = sorted(s.name for s in defs.schedules or [])
    return {"assets": assets, "checks": checks, "blocking": blocking, "jobs": jobs,
            "schedules": schedules}


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


def test_every_asset_has_owners_and_every_table_a_code_version():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] == "upstream":  # the agencies' data: observed, not ours to own
            assert not node.is_materializable and node.is_observable, key
            continue
        assert node.owners == ["team:kmu-pipeline"], key
        if key.path[0] != "warehouse":
            assert node.code_version, key


def test_annual_sources_have_a_freshness_policy_and_desi_none():
    graph = defs.resolve_asset_graph()
    policies = {key.path[-1]: graph.get(key).freshness_policy
                for key in graph.get_all_asset_keys() if key.path[0] == "raw"}
    cloud = policies["eurostat__isoc_cicce_use"]
    assert cloud.fail_window.to_timedelta().days == 400
    assert cloud.warn_window.to_timedelta().days == 62
    assert policies["genesis__ikt_by_size"] == cloud
    assert policies["desi__desi"] is None  # one closed edition


def test_marts_name_the_raw_datasets_they_read_and_their_checks_block():
    graph = _graph()
    assets = graph["assets"]
    assert "raw/eurostat__isoc_cicce_use" in assets["marts/adoption_gaps"]
    assert "marts/adoption_gaps" in assets["charts/cloud_gap_trend"]
    skills = {k for k in assets["marts/skills_shortage"] if k.startswith("raw/")}
    assert skills == {"raw/eurostat__isoc_ske_itrcrs", "raw/eurostat__isoc_ske_itspe",
                      "raw/eurostat__isoc_ske_itts", "raw/genesis__ikt_by_size",
                      "raw/genesis__ikt_germany"}
    marts = [k for k in assets if k.startswith("marts/")]
    assert {f"{m}:rows_and_ranges" for m in marts} <= set(graph["blocking"])
    raw = [k for k in assets if k.startswith("raw/")]
    assert {f"{r}:schema" for r in raw} <= set(graph["blocking"])
    assert not {f"{r}:refresh" for r in raw} & set(graph["blocking"])
