"""Issue 18.8: concurrent refreshes never lose an update. Publishes take turns under one lock,
a run whose build started before another run published is refused with a message saying so,
newer data is never replaced by older, and no two publishes share a temp name."""

from __future__ import annotations

import threading

import pytest

from kmu_pipeline.errors import PublishConflict
from kmu_pipeline.warehouse import Warehouse
from tests.reliability import faults as f
from tests.reliability.conftest import query, refresh


def test_a_run_overtaken_by_another_publish_is_refused_and_the_newer_data_stays(faults,
                                                                                tmp_path):
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    (first,) = query(db, "select run_id from meta.runs")
    overtaking = {}

    def publish_another_run_meanwhile(handler, body, ctype):
        # run A has loaded isoc_cicce_use into its build; run B starts and publishes now
        builds = list((tmp_path / ".build").glob("*.duckdb"))
        overtaking["builds_of_a"] = len(builds)
        faults.add("/data/isoc_cicce_use/", f.transformed(
            lambda rec: rec.replace(b"DE,2020,30.62,", b"DE,2020,77.7,")))
        overtaking["result"] = refresh(faults, tmp_path, datasets=("isoc_cicce_use",))
        # A has news too (a run with nothing new would publish nothing, refused or not)
        handler.raw(200, body.replace(b"DE,2020,16.25,", b"DE,2020,16.5,"), ctype)

    faults.add("/data/isoc_eb_bd/", publish_another_run_meanwhile, f.recorded())
    run_a = refresh(faults, tmp_path)
    run_b = overtaking["result"]
    assert overtaking["builds_of_a"] == 1 and run_b.success
    assert not run_a.success
    (failure,) = run_a.get_step_failure_events()
    error = failure.event_specific_data.error
    message = error.cause.message  # the step's own exception, under Dagster's wrapper
    assert "another run published newer data at" in message and run_b.run_id in message
    # B's data and B's run are published; A did not write older data over them
    assert query(db, "select run_id from meta.runs order by published_at") == [
        (first[0],), (run_b.run_id,)]
    assert query(db, "select value from raw.eurostat__isoc_cicce_use where geo = 'DE' and "
                     "year = 2020 and size_class = '10-49'") == [(77.7,)]
    assert Warehouse(db).record().run_id == run_b.run_id
    assert not list((tmp_path / ".build").glob("*.duckdb"))  # A's refused build is swept


def test_a_run_with_nothing_new_is_not_refused_when_another_published_meanwhile(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _build(wh, "first")
    assert wh.publish("first").published
    with wh.connect_build("idle", counts_as_change=False) as con:  # checks, writes nothing new
        con.execute("select count(*) from marts.t").fetchone()
    _build(wh, "busy")
    assert wh.publish("busy").generation == 2
    result = wh.publish("idle")
    assert not result.published and result.unchanged and result.generation == 2
    assert "run idle changed nothing" in result.reason and "generation 2 (run busy" in result.reason
    with wh.read() as con:
        assert con.execute("select run from marts.t").fetchall() == [("busy",)]
    assert not list(wh.build_dir.glob("idle*"))


def _build(wh: Warehouse, run: str) -> None:
    with wh.connect_build(run) as con:
        con.execute("create or replace table marts.t as select ? as run", [run])


def test_three_runs_publishing_at_once_one_wins_two_are_refused(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _build(wh, "first")
    assert wh.publish("first").published
    runs = ["a", "b", "c"]
    for run in runs:
        _build(wh, run)  # all three from generation 1
    outcomes, barrier = {}, threading.Barrier(len(runs))

    def publish(run):
        barrier.wait()
        try:
            outcomes[run] = wh.publish(run).generation
        except PublishConflict as exc:
            outcomes[run] = str(exc)
        except OSError as exc:  # FileExistsError on a shared temp name, once
            outcomes[run] = exc

    threads = [threading.Thread(target=publish, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [run for run, outcome in outcomes.items() if outcome == 2]
    assert len(winners) == 1, outcomes
    for run in set(runs) - set(winners):
        assert "another run published newer data at" in outcomes[run], outcomes
    with wh.read() as con:
        assert con.execute("select run from marts.t").fetchall() == [(winners[0],)]
        assert con.execute("select run_id from meta.runs order by published_at").fetchall() == [
            ("first",), (winners[0],)]


def test_publish_refuses_a_build_older_than_the_published_generation(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _build(wh, "slow")
    _build(wh, "fast")
    assert wh.publish("fast").published
    with pytest.raises(PublishConflict,
                       match=r"another run published newer data at .* \(run fast, "):
        wh.publish("slow")
    with wh.read() as con:
        assert con.execute("select run from marts.t").fetchall() == [("fast",)]
