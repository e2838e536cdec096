"""defs/inline_charts.py: the link the UI renders inline, the bound on the copies kept."""

from __future__ import annotations

import os

from dagster import DagsterInstance

from kmu_pipeline.defs.inline_charts import (
    INLINE_LIMIT,
    KEEP_RUNS,
    PATH_PREFIX_ENV,
    inline_entry,
    inline_url,
    prune_runs,
)


def test_the_link_follows_the_uis_path_prefix(monkeypatch):
    monkeypatch.delenv(PATH_PREFIX_ENV, raising=False)
    assert inline_url("r1", "abb1") == "/logs/kmu_charts/r1/abb1/svg"
    monkeypatch.setenv(PATH_PREFIX_ENV, "dagster/")
    assert inline_url("r1", "abb1", "png") == "/dagster/logs/kmu_charts/r1/abb1/png"


def test_an_instance_without_local_compute_logs_says_why_there_is_no_image():
    with DagsterInstance.ephemeral() as instance:  # NoOpComputeLogManager
        entry = inline_entry(instance, "r1", "abb1", "Abb. 1")
    assert "LocalComputeLogManager" in entry.value and "NoOpComputeLogManager" in entry.value


def test_the_markdown_stays_inline_whatever_the_title(tmp_path):
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        entry = inline_entry(instance, "0" * 36, "abb1", "Abb. 1: [x]\n" + "y" * 5000)
    assert len(entry.value) < INLINE_LIMIT
    assert entry.value.startswith("![Abb. 1: (x) yyy") and "/abb1/svg)" in entry.value


def test_only_the_newest_runs_keep_their_copies(tmp_path):
    runs = [tmp_path / f"run{i}" for i in range(KEEP_RUNS + 3)]
    for age, run in enumerate(runs):  # run0 newest
        run.mkdir()
        os.utime(run, ns=(10**18 - age * 10**9, 10**18 - age * 10**9))
    removed = prune_runs(tmp_path, KEEP_RUNS)
    assert sorted(removed) == sorted(runs[KEEP_RUNS:])
    assert sorted(tmp_path.iterdir()) == sorted(runs[:KEEP_RUNS])
