"""Point 4: bad input fails that dataset only, with an error naming the dataset, the request URL
and what was wrong; the other datasets still publish; the failed one keeps its last good data,
marked stale in meta.dataset_status.

Value-level drift through a recording (unknown code, percentage out of range, duplicate keys,
non-numeric value, missing flag, malformed CSV) is in tests/replay/test_bad_input.py, an HTML
body in tests/replay/test_cli.py and the "others still publish" case for an unknown code in
tests/replay/test_pipeline.py; this module adds what needs a lying server: truncation, wrong
content types, HTML with status 200, malformed XML, a new dimension, a missing size class.
"""

from __future__ import annotations

import shutil

import pytest

from tests.reliability import faults as f
from tests.reliability.conftest import check_errors, query, refresh

BAD = "/data/isoc_cicce_use/"
GOOD = "/data/isoc_eb_bd/"
CLOUD_DE = ("select count(*), max(value) from raw.eurostat__isoc_cicce_use where geo = 'DE'")
HTML = b"<!DOCTYPE html><html><head><title>Service maintenance</title></head><body>back soon"
SDMX_ML = b"""<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificData xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
 xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific">
<message:DataSet ss:structureRef="ESTAT_ISOC_CICCE_USE_1_0">
<Series freq="A" size_emp="10-49" nace_r2="C10-S951_X_K" indic_is="E_CC" unit="PC_ENT" geo="DE">
<Obs TIME_PERIOD="2020" OBS_VALUE="30.62"/><Obs TIME_PERIOD="2021" OBS_"""


def _add_column(body: bytes) -> bytes:
    lines = body.decode().splitlines()
    header = lines[0].replace(",geo,", ",geo,c_size,")
    rows = [line.replace(",DE,", ",DE,TOTAL,").replace(",EU27_2020,", ",EU27_2020,TOTAL,")
            for line in lines[1:]]
    return "\n".join([header, *rows]).encode() + b"\n"


def _drop_size_class(body: bytes) -> bytes:
    return b"".join(line for line in body.splitlines(keepends=True) if b",A,10-49," not in line)


CASES = {
    "truncated": (f.truncated(0.5), "truncated body"),
    "json-content-type": (f.body(b'{"error": {"status": 500}}', "application/json"),
                          "expected data, got JSON document (content-type application/json"),
    "html-with-200": (f.body(HTML, "text/html; charset=utf-8"),
                      "expected data, got HTML page (content-type text/html"),
    "empty-200": (f.body(b"", "application/vnd.sdmx.data+csv;version=1.0.0"),
                  "expected data, got empty body"),
    "malformed-xml": (f.body(SDMX_ML, "application/vnd.sdmx.structurespecificdata+xml"),
                      "malformed SDMX-ML"),
    "new-dimension": (f.transformed(_add_column), "SDMX-CSV columns changed: missing [], "
                                                  "new ['c_size']"),
    "missing-size-class": (f.transformed(_drop_size_class), "size classes missing from the "
                                                           "answer: ['10-49']"),
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """One good refresh of both datasets; each case starts from a copy of its warehouse."""
    from kmu_pipeline.replay import DEMO_SNAPSHOT
    from tests.reliability.faults import FaultServer

    workdir = tmp_path_factory.mktemp("good")
    with FaultServer(DEMO_SNAPSHOT) as server:
        assert refresh(server, workdir).success
    return workdir / "kmu.duckdb"


@pytest.mark.parametrize("case", CASES)
def test_bad_answer_fails_its_dataset_only_and_keeps_last_good(faults, tmp_path, good_run,
                                                                case):
    db = tmp_path / "kmu.duckdb"
    shutil.copyfile(good_run, db)
    before = query(db, CLOUD_DE)
    fault, cause = CASES[case]
    faults.add(BAD, fault)
    faults.add(GOOD, f.transformed(lambda b: b.replace(b"DE,2020,16.25,", b"DE,2020,17.5,")))
    result = refresh(faults, tmp_path)
    errors = check_errors(result)
    assert set(errors) == {"eurostat__isoc_cicce_use"}
    error = errors["eurostat__isoc_cicce_use"]
    assert cause in error, error
    assert "dataset isoc_cicce_use" in error
    assert f"request {faults.base_url('eurostat')}{BAD}" in error  # the full request URL
    # last good data kept and marked stale, with the same error; the other dataset published
    assert query(db, CLOUD_DE) == before and before[0][0] > 0
    status = query(db, "select dataset, status, error, last_success_at is not null "
                       "from meta.dataset_status order by 1")
    assert status == [("raw.eurostat__isoc_cicce_use", "stale", error, True),
                      ("raw.eurostat__isoc_eb_bd", "ok", None, True)]
    assert query(db, "select value from raw.eurostat__isoc_eb_bd where geo = 'DE' and "
                     "year = 2020 and size_class = '10-49'") == [(17.5,)]
    assert not list(tmp_path.rglob(".partial-*"))


def test_bytes_the_reader_cannot_decode_fail_naming_the_request(faults, tmp_path):
    """Found by bench/adversarial: an error from inside the reader named the dataset only."""
    faults.add(BAD, f.transformed(lambda b: b.replace(b",DE,", b",D\xff,", 1)))
    error = check_errors(refresh(faults, tmp_path))["eurostat__isoc_cicce_use"]
    assert "dataset isoc_cicce_use, request http://" in error
    assert "/data/isoc_cicce_use/" in error and "unexpected" in error


def test_an_overflowing_number_is_refused_not_stored_as_infinity(faults, tmp_path):
    """Found by bench/adversarial: DESI's 1e400 became inf in raw.desi__desi."""
    from kmu_pipeline.replay import DEMO_SNAPSHOT

    desi = next(DEMO_SNAPSHOT.glob("desi/desi/*/*.body")).read_bytes()
    assert desi.count(b",8.34223,") >= 1
    faults.add("/desi/", f.body(desi.replace(b",8.34223,", b",1e400,", 1), "text/csv"))
    result = refresh(faults, tmp_path, datasets=("desi",),
                     base_urls={"desi": faults.base_url("desi")})
    error = check_errors(result)["desi__desi"]
    assert "value" in error and "inf" in error
    assert query(tmp_path / "kmu.duckdb", "select count(*) from raw.desi__desi "
                                          "where isinf(value)") == [(0,)]
