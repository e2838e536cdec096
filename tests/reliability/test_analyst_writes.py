"""Issue 18.7: what careless read-write analysts do to the published file never reaches the
next run, and the log their connection keeps is never left beside a newly published file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.reliability.conftest import query, refresh

CLOUD_DE = ("select value from raw.eurostat__isoc_eb_bd where geo = 'DE' and year = 2020 "
            "and size_class = '10-49'")
TABLES = "select schema_name || '.' || table_name from duckdb_tables() order by 1"


def test_edits_to_the_published_file_do_not_survive_the_next_refresh(faults, tmp_path):
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    built = {"rows": query(db, "select count(*) from raw.eurostat__isoc_cicce_use"),
             "value": query(db, CLOUD_DE), "tables": query(db, TABLES)}
    con = duckdb.connect(str(db))  # read-write, against the README's advice
    con.execute("delete from raw.eurostat__isoc_cicce_use where geo = 'DE'")
    con.execute("update raw.eurostat__isoc_eb_bd set value = 99 where geo = 'DE'")
    con.execute("create table main.my_notes as select 42 as x")
    con.close()  # checkpointed into the published file
    # upstream unchanged: every body has the sha256 the last run loaded, nothing is reloaded
    result = refresh(faults, tmp_path)
    assert result.success
    assert query(db, "select count(*) from raw.eurostat__isoc_cicce_use") == built["rows"]
    assert query(db, CLOUD_DE) == built["value"]
    assert query(db, TABLES) == built["tables"]  # no main.my_notes


READER = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
          "print(con.execute('select count(*) from meta.runs').fetchone()[0])")
WRITER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
con.execute("create table main.my_notes as select 42 as x")
print("wrote", flush=True)
time.sleep(120)
"""


def test_no_reader_ever_finds_the_old_files_log_beside_the_new_file(faults, tmp_path,
                                                                    monkeypatch):
    """A reader that opens the published name right after the rename must not replay the log
    the analyst's connection wrote for the file that was replaced."""
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE,
                              text=True)
    reads = []
    real_replace = os.replace

    def replace_then_read(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        if Path(dst) == db:  # the instant the new file is in place
            reads.append(subprocess.run([sys.executable, "-c", READER, str(db)],
                                        capture_output=True, text=True, timeout=60))

    try:
        assert writer.stdout.readline().strip() == "wrote"  # its log is beside the file
        monkeypatch.setattr("kmu_pipeline.warehouse.os.replace", replace_then_read)
        assert refresh(faults, tmp_path).success
    finally:
        writer.kill()
        writer.wait()
    assert len(reads) == 1
    assert reads[0].returncode == 0, reads[0].stderr
    assert reads[0].stdout.strip() == "2"
