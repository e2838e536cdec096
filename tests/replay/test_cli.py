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
    # the article's Destatis figure, and never as Eurostat's
    assert con.execute("select source, value from marts.indicators where indicator = 'website' "
                       "and geo = 'DE' and year = 2020 and size_class = '0-9'").fetchall() == [
        ("genesis", 59.0)]
    con.close()
    assert any((tmp_path / "data" / "raw" / "eurostat").rglob("*.body"))  # raw kept as received
    query = _cli("query", "select size_class, value from marts.indicators where indicator = "
                 "'3d_printing' and source = 'eurostat' and year = 2020 order by value", "--csv",
                 cwd=tmp_path)
    assert query.returncode == 0 and query.stdout.splitlines() == [  # Eurostat ISOC_EB_P3D
        "size_class,value", "10-49,5.88", "10-249,6.81", "10+,7.35", "50-249,11.55",
        "250+,23.2"]
    listing = _cli("datasets", cwd=tmp_path)
    assert "raw.eurostat__isoc_cicce_use" in listing.stdout and "E_CC->cloud_computing" in (
        listing.stdout)


def test_run_reports_a_failed_dataset_and_exits_nonzero(tmp_path, demo_copy):
    body = next(demo_copy.glob("eurostat/isoc_eb_p3d/data_*/*.body"))
    body.write_text("<html><body>Maintenance</body></html>")
    run = _cli("run", "--replay", str(demo_copy), cwd=tmp_path)
    assert run.returncode == 1
    assert "FAILED raw.eurostat__isoc_eb_p3d" in run.stderr
    assert "expected data, got HTML page" in run.stderr
    assert "/data/isoc_eb_p3d/" in run.stderr
    con = duckdb.connect(str(tmp_path / "data" / "kmu.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.eurostat__isoc_cicce_use").fetchone()[0] > 0


def test_catalogue_check_passes_on_the_demo_and_names_a_wrong_code(tmp_path):
    ok = _cli("catalogue", "check", "--replay", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr[-2000:]
    assert "11 of 11 entries match the agencies' structures; 0 do not" in ok.stdout
    # a catalogue asking the old code E_3DP and the NACE flow isoc_ske_itspen2's size classes
    from kmu_pipeline.catalogue import CATALOGUE_PATH

    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(text.replace('indicators = { E_P3D = "3d_printing" }',
                                  'indicators = { E_3DP = "3d_printing" }')
                         .replace('[maps.eurostat_size_emp]\n"0-9" = "0-9"',
                                  '[maps.eurostat_size_emp]\n"0_9" = "0-9"'), encoding="utf-8")
    env_run = subprocess.run([sys.executable, "-m", "kmu_pipeline.cli", "catalogue", "check",
                              "--replay"], cwd=tmp_path, capture_output=True, text=True,
                             env={**os.environ, "KMU_CATALOGUE": str(wrong)}, timeout=300)
    assert env_run.returncode == 1
    flat = " ".join(env_run.stdout.split())  # the table wraps long cells
    assert "isoc_eb_p3d eurostat isoc_eb_p3d mismatch" in flat
    assert "indic_is: ['E_3DP'] not there (it has E_P3D, E_P3D1_OTH" in flat
    assert "size_emp: ['0_9'] not there (it has 0-9, 10-249" in flat
    # the GENESIS entries do not use the Eurostat size map; every Eurostat flow does
    assert "3 of 11 entries match the agencies' structures; 8 do not; 0 not checked" in flat
