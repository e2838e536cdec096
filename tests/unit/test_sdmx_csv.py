"""SDMX-CSV parsing: tidy output and errors that name dataset, request and cause."""

from __future__ import annotations

import duckdb
import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import MalformedPayloadError, SchemaError
from kmu_pipeline.ingest import create_observations_table
from kmu_pipeline.landing import LandingStore
from kmu_pipeline.parse.sdmx_csv import insert_landed
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.conftest import recorded_body

DIMS = ["freq", "size_emp", "nace_r2", "indic_is", "unit", "geo"]


def _parse(root, name="isoc_cicce_use"):
    landed = next(x for x in LandingStore(root).iter_landed() if x.dataset == name)
    ds = load_catalogue().dataset(name)
    con = duckdb.connect()
    create_observations_table(con, "obs")
    rows = insert_landed(con, "obs", landed, landed.body_path(root), ds, DIMS)
    frame = con.sql("select * from obs").df()
    assert len(frame) == rows
    return frame


def test_demo_recording_parses_to_harmonised_codes():
    frame = _parse(DEMO_SNAPSHOT)
    de = frame[(frame.geo == "DE") & (frame.year == 2021)].set_index("size_class")["value"]
    assert de.to_dict() == {"10-49": 38.42, "50-249": 51.77, "250+": 70.83, "10-249": 40.61,
                            "10+": 41.6}
    assert set(frame.unit) == {"pct_enterprises"} and set(frame.indicator) == {"cloud_computing"}


@pytest.mark.parametrize("edit, error, text", [
    (lambda t: t.replace(",GE250,", ",GE500,"), SchemaError, "unknown size_emp codes: ['GE500']"),
    (lambda t: t.replace(",41.18,", ",n/a,"), SchemaError, "non-numeric OBS_VALUE: ['n/a']"),
    (lambda t: t.replace("OBS_FLAG,", "OBS_FLAG,NEW_DIM,", 1), SchemaError, "new ['NEW_DIM']"),
    (lambda t: "<html><body>Service unavailable</body></html>", MalformedPayloadError,
     "not SDMX-CSV"),
])
def test_bad_bodies_are_named(demo_copy, edit, error, text):
    body = recorded_body(demo_copy, "isoc_cicce_use")
    body.write_text(edit(body.read_text()))
    with pytest.raises(error) as info:
        _parse(demo_copy)
    message = str(info.value)
    assert text in message and "isoc_cicce_use" in message and "/data/isoc_cicce_use/" in message
