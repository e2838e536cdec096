"""Warehouse: a run writes its own build; publish swaps it in whole and keeps the previous."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from kmu_pipeline.publication import release_lease
from kmu_pipeline.warehouse import (
    STORAGE_NUMBER,
    STORAGE_VERSION,
    Warehouse,
    connect,
    keep_builds_open,
    storage_number,
)
from tests.conftest import touch_published


def _write(wh: Warehouse, run: str, value: int) -> None:
    with wh.connect_build(run) as con:
        con.execute("create or replace table marts.t as select ? as v", [value])


def test_publish_swaps_atomically_and_keeps_previous(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _write(wh, "run1", 1)
    assert not wh.path.exists()  # nothing visible before publish
    wh.publish("run1")
    reader = duckdb.connect(str(wh.path), read_only=True)  # an analyst keeps this open
    _write(wh, "run2", 2)
    wh.publish("run2")  # not blocked by the open reader
    assert reader.execute("select v from marts.t").fetchone() == (1,)  # old snapshot
    reader.close()
    with wh.read() as con:
        assert con.execute("select v from marts.t").fetchone() == (2,)
        assert [r[0] for r in con.execute("select run_id from meta.runs order by 1").fetchall()
                ] == ["run1", "run2"]
    prev = duckdb.connect(str(wh.previous_path), read_only=True)
    assert prev.execute("select v from marts.t").fetchone() == (1,)


def _check_only(wh: Warehouse, run: str) -> None:
    with wh.connect_build(run, counts_as_change=False) as con:  # reads, notes no change
        con.execute("select v from marts.t").fetchone()


def test_a_run_without_change_publishes_only_a_file_somebody_wrote_to(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _write(wh, "run1", 1)
    assert wh.publish("run1").generation == 1
    published = wh.path.read_bytes()
    _check_only(wh, "run2")
    result = wh.publish("run2")
    assert result.unchanged and not result.published and wh.record().run_id == "run1"
    assert wh.path.read_bytes() == published and not list(wh.build_dir.glob("run2*"))
    touch_published(wh.path)  # an analyst's write moves the file's time
    _check_only(wh, "run3")
    assert wh.publish("run3").generation == 2  # published again: the edit is undone
    _check_only(wh, "run4")
    assert wh.publish("run4").unchanged
    (tmp_path / "kmu.duckdb.wal").write_bytes(b"an analyst's log")
    _check_only(wh, "run5")
    assert wh.publish("run5").generation == 3
    assert not (tmp_path / "kmu.duckdb.wal").exists()  # set aside, never beside the new file


def test_publishing_a_run_that_built_nothing_is_a_no_op(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    result = wh.publish("nope")
    assert not result.published and "run nope built nothing" in result.reason
    assert not wh.path.exists() and wh.record().generation == 0


def test_sweep_removes_builds_whose_lease_nobody_holds(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _write(wh, "dead", 1)
    release_lease(wh.build_path("dead").with_suffix(".lease"))  # as if its process had died
    (wh.build_dir / "dead.partial").write_bytes(b"half a copy")
    (wh.build_dir / "dead.charts").mkdir()
    (wh.build_dir / "dead.charts" / ".abb2.png.x.png").write_bytes(b"half a chart")
    _write(wh, "live", 2)  # a new run sweeps when it starts its build, and holds its lease
    assert not [p for p in wh.build_dir.iterdir() if p.name.startswith("dead")]
    assert wh.sweep_builds() == [] and wh.build_path("live").exists()


def test_a_build_left_without_its_layout_is_completed(tmp_path):
    """A step killed after DuckDB created a first run's file, before the layout's transaction
    committed: the next step of the run lays it out."""
    wh = Warehouse(tmp_path / "kmu.duckdb")
    wh.build_dir.mkdir(parents=True)
    duckdb.connect(str(wh.build_path("r"))).close()
    _write(wh, "r", 1)
    with wh.connect_build("r") as con:
        tables = {r[0] for r in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
        views = {r[0] for r in con.execute("select schema_name || '.' || view_name from "
                                           "duckdb_views() where not internal").fetchall()}
    assert tables == {"meta.dataset_status", "meta.requests", "meta.runs",
                      "history.stored_versions", "history.first_loads", "marts.t"}
    assert views == {"history.observations"}  # the history is part of the layout


def test_a_checkpoint_keeps_a_short_row_group_instead_of_rewriting_the_table(tmp_path):
    """BUILD_SETTINGS: a few rows between full row groups (what a parallel load leaves) stay a
    row group of their own through the checkpoint at close; every row is still there."""
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with wh.connect_build("r") as con:
        con.execute("create table raw.t (v bigint)")
        # 4 row groups where 3 would do: a vacuum would rewrite all but the first
        for start, rows in ((0, 122_880), (122_880, 15), (122_895, 122_880), (245_775, 8_465)):
            con.execute("insert into raw.t select range from range(?, ?)",
                        [start, start + rows])
    with wh.connect_build("r") as con:
        groups = [n for (n,) in con.execute(
            "select max(count) from pragma_storage_info('raw.t') group by row_group_id "
            "order by row_group_id").fetchall()]
        assert groups == [122_880, 15, 122_880, 8_465]
        assert con.execute("select count(*), sum(v) from raw.t").fetchall() == [
            (254_240, sum(range(254_240)))]


def test_a_first_build_is_created_in_the_storage_format_1x_clients_read(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _write(wh, "run1", 1)
    wh.publish("run1")
    assert storage_number(wh.path) == STORAGE_NUMBER
    duckdb.connect(str(tmp_path / "direct.duckdb"),
                   config={"storage_compatibility_version": STORAGE_VERSION}).close()
    assert storage_number(tmp_path / "direct.duckdb") == STORAGE_NUMBER  # the two constants agree


@pytest.mark.parametrize("written_in", ["latest", "v1.0.0"])
def test_a_published_file_in_another_format_is_rewritten_whole_by_the_next_run(tmp_path,
                                                                                written_in):
    """A warehouse DuckDB 2 wrote in its own format before STORAGE_VERSION was set, or one an
    earlier release wrote in the 1.0 format: the next build is a new file in STORAGE_VERSION
    with the same tables, rows, comments and keys."""
    wh = Warehouse(tmp_path / "kmu.duckdb")
    con = duckdb.connect(str(wh.path), config={"storage_compatibility_version": written_in})
    con.execute("create schema marts")
    con.execute("create table marts.t (k varchar primary key, v int)")
    con.execute("insert into marts.t values ('a', 1), ('b', 2)")
    con.execute("comment on table marts.t is 'the table'")
    con.execute("comment on column marts.t.v is 'the value'")
    con.close()
    assert storage_number(wh.path) != STORAGE_NUMBER
    with wh.connect_build("run2") as con:
        assert con.execute("select k, v from marts.t order by k").fetchall() == [("a", 1), ("b", 2)]
        with pytest.raises(duckdb.ConstraintException):
            con.execute("insert into marts.t values ('a', 3)")
    wh.publish("run2")
    assert storage_number(wh.path) == STORAGE_NUMBER
    with wh.read() as con:
        assert con.execute("select comment from duckdb_tables() where table_name = 't'"
                           ).fetchall() == [("the table",)]
        assert con.execute("select comment from duckdb_columns() where table_name = 't' "
                           "and column_name = 'v'").fetchall() == [("the value",)]
        assert con.execute("select run_id from meta.runs").fetchall() == [("run2",)]
    assert sorted(p.name for p in wh.build_dir.iterdir()) == []


def test_storage_number_refuses_a_file_that_is_not_duckdb(tmp_path):
    path = tmp_path / "kmu.duckdb"
    path.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(ValueError, match="not a DuckDB database file"):
        storage_number(path)


def test_a_process_running_every_step_keeps_the_build_open_until_the_publish(tmp_path):
    """keep_builds_open (kmu-pipeline run): one connection from step to step (a temp table,
    which lives as long as its connection, is still there), the publish checkpoints and closes
    it, and the published file holds every step's writes."""
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with keep_builds_open():
        with wh.connect_build("run1") as con:
            con.execute("create temp table step_one as select 1 as v")
            con.execute("create table marts.t as select 1 as v")
        with wh.connect_build("run1") as con:
            assert con.execute("select v from step_one").fetchall() == [(1,)]
            con.execute("insert into marts.t values (2)")
            con.execute("select * from range(100000)").fetchone()  # a result left pending
        with wh.connect_build("run1") as con:
            assert con.sql("select count(*) from marts.t").fetchall() == [(2,)]
        assert wh.publish("run1").published
        with wh.connect_build("run2") as con:  # the next run: a build of its own
            assert not con.execute("select count(*) from duckdb_tables() where "
                                   "table_name = 'step_one'").fetchone()[0]
    with wh.read() as con:
        assert con.execute("select v from marts.t order by v").fetchall() == [(1,), (2,)]
    # the block closed run2's connection: another process can open the file now
    assert _another_process_opens(wh.build_path("run2"))


def test_a_step_that_fails_closes_the_kept_connection(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with keep_builds_open():
        with wh.connect_build("run1") as con:
            con.execute("create temp table scratch as select 1 as v")
        with pytest.raises(duckdb.CatalogException), wh.connect_build("run1") as con:
            con.execute("select * from no_such_table")
        with wh.connect_build("run1") as con:  # a new connection: its temp tables are gone
            with pytest.raises(duckdb.CatalogException):
                con.execute("select * from scratch")


def _another_process_opens(path) -> bool:
    """DuckDB lets one process at a time open a file (in one process, connections share it)."""
    done = subprocess.run([sys.executable, "-c", "import duckdb, sys; "
                           "duckdb.connect(sys.argv[1]).close()", str(path)],
                          capture_output=True, text=True, timeout=120)
    return done.returncode == 0


def test_without_keep_builds_open_each_step_closes_the_build(tmp_path):
    """Steps in processes of their own (the multiprocess executor) take turns with the file."""
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _write(wh, "run1", 1)
    assert _another_process_opens(wh.build_path("run1"))
    with keep_builds_open():
        _write(wh, "run2", 1)
        assert not _another_process_opens(wh.build_path("run2"))  # the check can fail


@pytest.mark.parametrize("cpus", [{0}, {0, 1, 2}, set(range(64))])
def test_duckdb_runs_no_more_threads_than_the_process_may_use_cpus(monkeypatch, tmp_path, cpus):
    """DuckDB's default (a thread per CPU of the machine, or the container's CPU quota) capped
    by the CPU affinity, which DuckDB ignores; never raised above DuckDB's own choice."""
    (default,), = duckdb.connect().execute("select current_setting('threads')").fetchall()
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: cpus, raising=False)
    con = connect(str(tmp_path / "x.duckdb"))
    try:
        assert con.execute("select current_setting('threads')").fetchone()[0] == min(
            len(cpus), default)
    finally:
        con.close()
