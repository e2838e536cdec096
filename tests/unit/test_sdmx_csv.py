"""SDMX-CSV parsing: tidy output and errors that name dataset, request and cause."""

from __future__ import annotations

import duckdb
import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import MalformedPayloadError, SchemaError
from kmu_pipeline.landing import LandingStore
from kmu_pipeline.parse.sdmx_csv import insert_landed
from kmu_pipeline.replay import DEMO_SNAPSHOT
from kmu_pipeline.schemas import Observations, create_table
from tests.conftest import recorded_body

DIMS = ["freq", "size_emp", "nace_r2", "indic_is", "unit", "geo"]


def _parse(root, name="isoc_cicce_use"):
    landed = next(x for x in LandingStore(root).iter_landed() if x.dataset == name)
    ds = load_catalogue().dataset(name)
    con = duckdb.connect()
    create_table(con, "obs", Observations)
    rows = insert_landed(con, "obs", landed, landed.body_path(root), ds, DIMS)
    frame = con.sql("select * from obs").df()
    assert len(frame) == rows
    return frame


def test_demo_recording_parses_to_harmonised_codes():
    frame = _parse(DEMO_SNAPSHOT)
    de = frame[(frame.geo == "DE") & (frame.year == 2021)]
    assert de[de.indicator_code == "E_CC"].set_index("size_class")["value"].to_dict() == {
        "10-49": 38.42, "50-249": 51.77, "250+": 70.83, "10-249": 40.61, "10+": 41.6}
    assert de[de.indicator_code == "E_CC1_SI"].set_index("size_class")["value"].to_dict() == {
        "10-49": 29.38, "50-249": 39.44, "250+": 55.26, "10-249": 31.03, "10+": 31.83}
    assert set(frame.unit) == {"pct_enterprises"}
    assert set(frame.indicator) == {"cloud_computing", "cloud_sophisticated_intermediate"}


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


def test_quoted_fields_follow_rfc_4180(demo_copy):
    """The reader is told the header instead of sniffing it; quoting still works as in RFC 4180."""
    body = recorded_body(demo_copy, "isoc_cicce_use")
    body.write_text(body.read_text().replace(
        "ESTAT:ISOC_CICCE_USE(1.0),27/02/26 23:00:00,A,10-49,C10-S951_X_K,E_CC,PC_ENT,DE,2021,"
        "38.42,,",
        '"ESTAT:ISOC_CICCE_USE(1.0)","27/02/26 23:00:00",A,"10-49",C10-S951_X_K,E_CC,PC_ENT,DE,'
        '2021,"38.42"," b ",'))
    frame = _parse(demo_copy)
    row = frame[(frame.geo == "DE") & (frame.year == 2021) & (frame.size_class == "10-49")
                & (frame.indicator_code == "E_CC")]
    assert row[["value", "flag", "last_update"]].values.tolist() == [
        [38.42, "b", "27/02/26 23:00:00"]]
