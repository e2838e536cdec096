"""Warehouse: a run writes its own build; publish swaps it in whole and keeps the previous."""

from __future__ import annotations

import os
import time

import duckdb
import pytest

from kmu_pipeline.warehouse import Warehouse


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


def test_publishing_an_unknown_run_fails_and_changes_nothing(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    with pytest.raises(FileNotFoundError, match="run nope has no build"):
        wh.publish("nope")
    assert not wh.path.exists()


def test_sweep_removes_dead_runs_builds(tmp_path):
    wh = Warehouse(tmp_path / "kmu.duckdb")
    _write(wh, "dead", 1)
    stage = wh.build_dir / "dead.stage"
    stage.mkdir()
    (stage / "x.parquet").write_bytes(b"")
    old = time.time() - 7 * 3600
    for path in wh.build_dir.iterdir():
        os.utime(path, (old, old))
    _write(wh, "live", 2)
    removed = {p.name for p in wh.sweep_builds(keep="live")}
    assert {"dead.duckdb", "dead.stage"} <= removed
    assert wh.build_path("live").exists()
