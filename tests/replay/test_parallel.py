"""refresh_all with Dagster's multiprocess executor: steps in parallel processes, one build."""

from __future__ import annotations

import itertools

import duckdb
from dagster import AssetKey, DagsterEventType, DagsterInstance

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.execution import run_multiprocess


def _step_spans(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float, int]]:
    """step key -> (start time, end time, pid) from the run's event log."""
    starts, spans = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = (entry.timestamp, event.pid)
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            start, pid = starts[event.step_key]
            spans[event.step_key] = (start, entry.timestamp, pid)
    return spans


def test_refresh_all_runs_steps_in_parallel_processes(tmp_path, demo_server, monkeypatch):
    env = {
        "KMU_WAREHOUSE": str(tmp_path / "kmu.duckdb"),
        "KMU_LANDING_DIR": str(tmp_path / "raw"),
        "KMU_EUROSTAT_BASE_URL": demo_server.base_url("eurostat"),
        "KMU_GENESIS_BASE_URL": demo_server.base_url("genesis"),
        "KMU_DESI_BASE_URL": demo_server.base_url("desi"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # restored after the test
    (tmp_path / "dagster").mkdir()
    # four raw tables of three sources and the publish: a process each costs seconds on a
    # loaded 2-core machine, and these show what the executor does (tests/replay covers the rest)
    datasets = [load_catalogue().dataset(n)
                for n in ("isoc_cicce_use", "isoc_eb_bd", "ikt_by_size", "desi")]
    keys = [AssetKey(["raw", ds.asset_name]) for ds in datasets]
    with DagsterInstance.local_temp(tempdir=str(tmp_path / "dagster")) as instance:
        result = run_multiprocess(env, max_concurrent=4, instance=instance,
                                  asset_selection=[*keys, AssetKey(["warehouse", "published"])])
        spans = _step_spans(instance, result.run_id)
        failures = [e.message for e in instance.all_logs(result.run_id)
                    if e.dagster_event and e.dagster_event.is_failure]
    assert result.success, failures

    assert {f"raw__{ds.asset_name}" for ds in datasets} | {"warehouse__published"} <= set(spans)
    assert len({pid for _, _, pid in spans.values()}) > 1  # one process per step
    overlapping = [(a, b) for a, b in itertools.combinations(spans, 2)
                   if spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]]
    assert overlapping, "no two steps ran at the same time"

    con = duckdb.connect(env["KMU_WAREHOUSE"], read_only=True)
    try:
        status = dict(con.execute("select dataset, status from meta.dataset_status").fetchall())
        tables = {t for (t,) in con.execute("select schema_name || '.' || table_name "
                                            "from duckdb_tables()").fetchall()}
        cloud = con.execute("select value from raw.eurostat__isoc_cicce_use where geo = 'DE' "
                            "and year = 2020 and size_class = '10-49'").fetchall()
    finally:
        con.close()
    raw = {ds.table for ds in datasets}
    assert status == dict.fromkeys(raw, "ok")  # every selected dataset loaded, none stale
    assert raw <= tables
    assert cloud == [(30.62,)]
