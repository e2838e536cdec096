"""The CLI as a user runs it: offline run on the demo snapshot, then inspect the file."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "kmu_pipeline.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_run_replay_then_query(tmp_path):
    run = _cli("run", "--replay", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "published data/kmu.duckdb" in run.stdout
    db = tmp_path / "data" / "kmu.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select value from marts.indicators where indicator = 'website' and "
                       "geo = 'DE' and year = 2020 and size_class = '0-9' and "
                       "source = 'eurostat'").fetchone() == (59.0,)
    con.close()
    assert any((tmp_path / "data" / "raw" / "eurostat").rglob("*.body"))  # raw kept as received
    query = _cli("query", "select size_class, value from marts.indicators where indicator = "
                 "'3d_printing' and source = 'eurostat' order by value", "--csv", cwd=tmp_path)
    assert query.returncode == 0 and query.stdout.splitlines() == [
        "size_class,value", "0-9,4.0", "10-49,6.0", "50-249,12.0"]
    listing = _cli("datasets", cwd=tmp_path)
    assert "raw.eurostat__isoc_cicce_use" in listing.stdout and "E_CC->cloud_computing" in (
        listing.stdout)


def test_run_reports_a_failed_dataset_and_exits_nonzero(tmp_path, demo_copy):
    body = next(demo_copy.glob("eurostat/isoc_eb_p3d/*/*.body"))
    body.write_text("<html><body>Maintenance</body></html>")
    run = _cli("run", "--replay", str(demo_copy), cwd=tmp_path)
    assert run.returncode == 1
    assert "FAILED raw.eurostat__isoc_eb_p3d" in run.stderr and "not SDMX-CSV" in run.stderr
    assert "/data/isoc_eb_p3d/" in run.stderr
    con = duckdb.connect(str(tmp_path / "data" / "kmu.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.eurostat__isoc_cicce_use").fetchone()[0] > 0
