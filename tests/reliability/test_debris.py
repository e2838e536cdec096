"""Issue 18.13 and 18.14: an honest report when nothing was published, and no debris: the
files of dead runs (lease not held, whatever their age) go when the next run starts."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest
from dagster import AssetKey

from kmu_pipeline import cli
from kmu_pipeline.defs.execution import sweep_dead_instances
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.conftest import copy_workdir, touch_published
from tests.reliability.publishing import published_runs, run_selection

HOLDER = ("import fcntl, sys, time; fh = open(sys.argv[1], 'a+'); "
          "fcntl.flock(fh, fcntl.LOCK_SH); print('held', flush=True); time.sleep(120)")


@dataclass
class LeaseHolder:
    """Another process, alive, holding a lease (as a run in progress does)."""

    process: subprocess.Popen

    @classmethod
    def hold(cls, path) -> LeaseHolder:
        process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "held"
        return cls(process)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def workdir(published_demo, tmp_path):
    return copy_workdir(published_demo[0], tmp_path / "data")


def test_a_new_run_sweeps_the_files_of_dead_runs_and_keeps_live_ones(workdir, demo_server):
    build_dir = workdir / ".build"
    build_dir.mkdir(exist_ok=True)
    dead = ["dead.duckdb", "dead.partial", "dead.lock", "dead.lease", "dead.base"]
    for name in dead:
        (build_dir / name).write_bytes(b"debris of a killed run")
    (build_dir / "dead.charts").mkdir()
    (build_dir / "dead.charts" / ".abb2_digital_integration.png.x1.png").write_bytes(b"half")
    (build_dir / "dead.duckdb.tmp").mkdir()  # DuckDB's spill folder
    chart_temp = workdir / "charts" / ".abb2_digital_integration.png.k2j3.png"
    chart_temp.write_bytes(b"half a picture")
    (build_dir / "live.duckdb").write_bytes(b"a run in progress")
    holder = LeaseHolder.hold(build_dir / "live.lease")
    try:
        result = run_selection(workdir, demo_server,
                               [AssetKey(["raw", "eurostat__isoc_cicce_use"])])
        assert result.success
        left = sorted(p.name for p in build_dir.iterdir())
    finally:
        holder.stop()
    assert left == ["live.duckdb", "live.lease"]  # minutes old, not hours: gone all the same
    assert not chart_temp.exists()


def test_the_cli_says_nothing_was_published_and_why(published_demo, tmp_path, capsys):
    workdir = copy_workdir(published_demo[0], tmp_path / "data")
    (workdir / "kmu.prev.duckdb").unlink(missing_ok=True)
    (workdir / "kmu.prev.duckdb").mkdir()  # the previous file cannot be kept: publish fails
    touch_published(workdir / "kmu.duckdb")  # so that the run has something to publish
    code = cli.main(["--warehouse", str(workdir / "kmu.duckdb"), "run", "--replay",
                     str(DEMO_SNAPSHOT), "--landing", str(workdir / "raw")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "published what completed" not in out and "published data" not in out
    assert "nothing was published" in err and "warehouse__published" in err
    assert "kmu.prev.duckdb" in err  # the cause, naming the file
    assert f"still holds run {published_demo[1]}" in out
    assert published_runs(workdir / "kmu.duckdb") == [published_demo[1]]


def test_temporary_instances_of_killed_parallel_runs_are_swept(tmp_path):
    dead, live = tmp_path / "kmu-dagster-dead", tmp_path / "kmu-dagster-live"
    for folder in (dead, live):
        (folder / "history").mkdir(parents=True)
    (dead / "lease").touch()
    holder = LeaseHolder.hold(live / "lease")
    try:
        assert sweep_dead_instances(tmp_path) == [dead]
    finally:
        holder.stop()
    assert not dead.exists() and live.exists()
