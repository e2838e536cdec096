"""The CLI as a user runs it: offline run on the demo snapshot, then inspect the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

# The DuckDB CLI from the package index (duckdb-cli, the test extra): a 1.x client, as analysts use
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
WEBSITE_DE_2020_MICRO = ("select source, value from marts.indicators where indicator = "
                         "'website' and geo = 'DE' and year = 2020 and size_class = '0-9'")


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "kmu_pipeline.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def replay_run(readme_run):
    """The README's first command, `kmu-pipeline run --replay`, in a fresh directory
    (tests/conftest.py: run once a session)."""
    return readme_run


def test_run_replay_then_query(replay_run):
    tmp_path, run = replay_run
    assert "published data/kmu.duckdb" in run.stdout
    db = tmp_path / "data" / "kmu.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    # the article's Destatis figure, and never as Eurostat's
    assert con.execute(WEBSITE_DE_2020_MICRO).fetchall() == [("genesis", 59.0)]
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


def test_the_duckdb_1x_cli_reads_the_published_file(replay_run):
    """Issue 15: the README's `duckdb -readonly data/kmu.duckdb ...` with the newest 1.x CLI."""
    tmp_path, _ = replay_run
    assert DUCKDB_CLI.exists(), f"{DUCKDB_CLI} missing: pip install -e '.[test]' (duckdb-cli)"
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True,
                             timeout=60)
    assert version.stdout.startswith("v1."), version.stdout + version.stderr

    def cli(sql: str) -> list[str]:
        done = subprocess.run([str(DUCKDB_CLI), "-readonly", "data/kmu.duckdb", "-csv",
                               "-noheader", "-c", sql], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    with duckdb.connect(str(tmp_path / "data" / "kmu.duckdb"), read_only=True) as con:
        (rows,), = con.execute("select count(*) from marts.adoption_gaps").fetchall()
        (versions,), = con.execute("select count(*) from history.observations").fetchall()
    assert rows > 0 and versions > 0
    assert cli("select count(*) from marts.adoption_gaps") == [str(rows)]
    # the history is a view over the raw tables (history.py): 1.x binds it too
    assert cli("select count(*) from history.observations") == [str(versions)]
    assert cli(WEBSITE_DE_2020_MICRO) == ["genesis,59.0"]


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
    flat_ok = " ".join(ok.stdout.split())
    assert "16 of 16 entries match the agencies' structures; 0 do not" in flat_ok
    assert "isoc_eb_p3d eurostat isoc_eb_p3d ok flow ISOC_EB_P3D: key, codes and periods" in (
        flat_ok)
    assert "desi desi download/DESI.csv ok nothing before the download" in flat_ok
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
    assert "5 of 16 entries match the agencies' structures; 11 do not; 0 not checked" in flat


def test_run_prints_one_line_per_asset_and_records_in_the_project_instance(replay_run,
                                                                          monkeypatch):
    """Issue 15.4: progress lines instead of Dagster's DEBUG stream, and the run in
    data/dagster_home, where `dagster dev` with that DAGSTER_HOME shows it."""
    from dagster import AssetKey, DagsterInstance, DagsterRunStatus

    from kmu_pipeline.defs.definitions import defs

    tmp_path, run = replay_run
    graph = defs.resolve_asset_graph()  # upstream/* are observed, not materialised
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys()
                  if graph.get(k).is_materializable)
    lines = run.stdout.splitlines()
    printed = sorted(line.split()[1] for line in lines if line.startswith("  materialized "))
    assert printed == keys
    assert lines[-1].startswith("published data/kmu.duckdb")
    assert "DEBUG" not in run.stdout + run.stderr and "alembic" not in run.stderr.lower()
    # and the warning that marts.firms_behind is empty, and what upstream had
    assert len(lines) == len(keys) + 3
    assert "  check failed marts/firms_behind:rows_and_ranges (WARN)" in lines
    assert lines[-2].startswith("16 of 16 datasets refreshed with new data;")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster_home"))
    with DagsterInstance.get() as instance:
        (record,) = instance.get_run_records()
        assert record.dagster_run.status == DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(
            AssetKey(["marts", "adoption_gaps"])).run_id == record.dagster_run.run_id
