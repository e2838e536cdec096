"""A run that changes nothing publishes nothing (Warehouse.note_change, README "A run that
changes nothing publishes nothing"): the analysts' file, its charts and its private base stay
byte for byte; what does change (new data, a new release stamp, a failure) still publishes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
from PIL import Image

from kmu_pipeline.charts.output import same_picture
from kmu_pipeline.warehouse import Warehouse, table_fingerprint
from tests.conftest import copy_workdir
from tests.reliability import faults as f
from tests.reliability.conftest import query, refresh

STATUS = "select dataset, status, checked, last_attempt_at from meta.dataset_status order by 1"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not {"raw", "dagster_home"} & set(p.parts)}


def test_the_readme_run_again_with_nothing_new_publishes_nothing(readme_run, tmp_path):
    workdir = copy_workdir(readme_run[0], tmp_path / "run")
    data = workdir / "data"
    record = Warehouse(data / "kmu.duckdb").record()
    before = _digests(data)
    runs = set((data / "dagster_home" / "history" / "runs").glob("*.db"))
    done = subprocess.run([sys.executable, "-m", "kmu_pipeline.cli", "run", "--replay"],
                          cwd=workdir, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ("nothing was refreshed: no dataset had new data (16 datasets); unchanged by the "
            "agencies' release stamps: 11, asked and the same: 5") in done.stdout
    assert (f"nothing new to publish: every table and chart as published; data/kmu.duckdb "
            f"stays as published by run {record.run_id} at {record.published_at}") in done.stdout
    # the warehouse, its base, the previous file, the charts, the dictionary: all as they were
    assert _digests(data) == before
    assert Warehouse(data / "kmu.duckdb").record() == record
    assert not list((data / ".build").glob("*.duckdb"))
    # the check itself is on record: the run is in the project's Dagster instance
    assert len(set((data / "dagster_home" / "history" / "runs").glob("*.db")) - runs) == 1


def test_a_raw_refresh_with_nothing_new_leaves_the_file_and_says_so(faults, tmp_path):
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    status, published = query(db, STATUS), db.read_bytes()
    again = refresh(faults, tmp_path)  # forced: asked again, the same bytes came
    assert again.success
    said = again.asset_materializations_for_node("warehouse__published")[0].metadata
    assert said["published"].value.startswith(f"run {again.run_id} changed nothing")
    assert db.read_bytes() == published and query(db, STATUS) == status
    assert not list((tmp_path / ".build").iterdir())


def test_a_new_release_stamp_or_new_values_publish(faults, tmp_path):
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    faults.add("/data/isoc_eb_bd/", f.transformed(
        lambda rec: rec.replace(b"DE,2020,16.25,", b"DE,2020,16.5,")))
    changed = refresh(faults, tmp_path)
    assert changed.success and Warehouse(db).record().run_id == changed.run_id
    assert query(db, "select value from raw.eurostat__isoc_eb_bd where geo = 'DE' and "
                     "year = 2020 and size_class = '10-49'") == [(16.5,)]


def test_a_dataset_failing_again_the_same_way_still_fails_the_run(faults, tmp_path):
    db = tmp_path / "kmu.duckdb"
    assert refresh(faults, tmp_path).success
    faults.add("/data/isoc_eb_bd/", f.status(500, b"down"))
    for _ in range(2):  # the second failure records nothing new, and is still a failure
        result = refresh(faults, tmp_path)
        assert not result.success
        assert Warehouse(db).record().run_id == result.run_id  # published: the run is red
        assert query(db, "select status from meta.dataset_status "
                         "where dataset = 'raw.eurostat__isoc_eb_bd'") == [("stale",)]


def test_a_table_fingerprint_sees_rows_columns_and_comments_not_row_order():
    con = duckdb.connect()
    con.execute("create table t as select * from (values (1, 'a'), (1, 'a'), (2, 'b')) v(n, s)")
    first = table_fingerprint(con, "t")
    con.execute("create or replace table t as select * from t order by n desc")
    assert table_fingerprint(con, "t") == first  # the same rows in another order
    con.execute("create or replace table t as select distinct * from t")
    assert table_fingerprint(con, "t") != first  # one duplicate fewer
    con.execute("create or replace table t as select * from (values (1, 'a'), (1, 'a'), "
                "(2, 'b')) v(n, s)")
    assert table_fingerprint(con, "t") == first
    con.execute("comment on column t.n is 'a count'")
    assert table_fingerprint(con, "t") != first
    assert table_fingerprint(con, "missing") is None


def test_same_picture_compares_pixels_not_the_metadata_naming_the_run(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    def save(name: str, colour: str, run: str) -> Path:
        info = PngInfo()
        info.add_text("Source", f"Eurostat (Lauf {run})")
        path = tmp_path / name
        Image.new("RGB", (8, 6), colour).save(path, pnginfo=info)
        return path

    published = save("published.png", "white", "one")
    assert same_picture(save("redrawn.png", "white", "two"), published)
    assert not same_picture(save("other.png", "black", "two"), published)
    assert not same_picture(published, tmp_path / "never_published.png")
