"""Point 1: analysts reading the warehouse never block a refresh, and a refresh never breaks a
reader. Eight reader processes query the published file in a loop while ten refreshes publish;
every read must succeed and show tables of exactly one run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kmu_pipeline.defs.sql import sql_assets
from tests.conftest import copy_workdir
from tests.reliability import faults as f
from tests.reliability.conftest import query, refresh

READER = Path(__file__).with_name("reader.py")
REFRESHES = 10
READERS = 8


def _mark(generation: int):
    """Each run's upstream answers carry its number in one cell of two datasets."""
    def edit(old: str):
        return f.transformed(lambda body: body.replace(old.encode(),
                                                       f"DE,2020,{generation},".encode()))
    return {"/data/isoc_cicce_use/": edit("DE,2020,30.62,"),
            "/data/isoc_eb_bd/": edit("DE,2020,16.25,")}


def test_readers_during_ten_refreshes_see_whole_runs_and_never_fail(faults, tmp_path,
                                                                     published_demo):
    tmp_path = tmp_path / "run"
    db = tmp_path / "kmu.duckdb"
    for match, fault in _mark(0).items():
        faults.add(match, fault)
    # first a full run (all tables), as a deployment has; refreshes then rebuild two datasets
    # and every SQL model on top of them
    copy_workdir(published_demo[0], tmp_path)
    result = refresh(faults, tmp_path, extra_assets=sql_assets())
    assert result.success
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, str(READER), str(db), str(stop),
                                 "hold" if n % 2 else "reconnect"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(READERS)]
    run_ids = []
    try:
        for generation in range(1, REFRESHES + 1):
            for match, fault in _mark(generation).items():
                faults.add(match, fault)
            result = refresh(faults, tmp_path, extra_assets=sql_assets())
            assert result.success  # never blocked by eight open readers
            run_ids.append(result.run_id)
    finally:
        stop.touch()
        outputs = [reader.communicate(timeout=60) for reader in readers]
    lines = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    errors = [line["error"] for line in lines if "error" in line]
    assert errors == []
    assert all(reader.returncode == 0 for reader in readers), [err for _, err in outputs]
    reads = [line for line in lines if "row" in line]
    assert len(reads) >= 200
    for read in reads:
        cloud_raw, big_data_raw, cloud_mart, big_data_mart, runs = read["row"]
        # one run's tables, whole: both raw tables and both marts come from the same run
        # (the full run plus the first refresh made generation 0, published as runs 1 and 2)
        assert cloud_raw == big_data_raw == cloud_mart == big_data_mart == runs - 2, read
    seen_runs = {read["row"][4] for read in reads}
    assert len(seen_runs) >= 5, seen_runs  # readers really read across the refreshes
    # each read's latest run id is a run that published with exactly that generation
    by_generation = {n + 1: run_id for n, run_id in enumerate(run_ids)}
    for read in reads:
        if read["row"][0] >= 1:
            assert read["latest"] == by_generation[int(read["row"][0])]
    assert query(db, "select count(*) from meta.runs") == [(REFRESHES + 2,)]
    previous = query(tmp_path / "kmu.prev.duckdb",
                     "select value from raw.eurostat__isoc_cicce_use where geo = 'DE' "
                     "and year = 2020 and size_class = '10-49'")
    assert previous == [(REFRESHES - 1,)]  # the run before the last is kept beside it
    assert not list((tmp_path / ".build").glob("*.duckdb"))  # no build left behind


WRITER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])  # no read_only: what the docs tell analysts not to do
con.execute("create table main.my_notes as select 42 as x")
print("wrote", flush=True)
time.sleep(120)
"""


def _read_in_new_process(db: Path) -> subprocess.CompletedProcess:
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('select count(*) from meta.runs').fetchone()[0])")
    return subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True,
                          text=True, timeout=60)


def test_a_read_write_analyst_connection_does_not_break_readers_of_the_next_run(faults,
                                                                                tmp_path):
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout.readline().strip() == "wrote"  # its log now sits beside the file
        assert refresh(faults, tmp_path).success  # a writer does not block the refresh
        read = _read_in_new_process(db)
        assert read.returncode == 0, read.stderr  # the old file's log is not replayed on it
        assert read.stdout.strip() == "2"
    finally:
        writer.kill()  # dies without closing: its log stays where it was moved
        writer.wait()
    # new data (a run with nothing new would leave the file as it is)
    faults.add("/data/isoc_cicce_use/", f.transformed(
        lambda rec: rec.replace(b"DE,2020,30.62,", b"DE,2020,77.7,")))
    assert refresh(faults, tmp_path).success
    assert _read_in_new_process(db).stdout.strip() == "3"
    assert list((tmp_path / ".build").glob("orphaned-*.wal"))
