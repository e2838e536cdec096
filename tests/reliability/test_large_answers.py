"""Point 3: Eurostat's large answers. The real 413 footer (footer2.xml) and the ZIP later served
at its URL (footer2.zip), both read from the reference directory and served by the fault server,
are followed through the real HTTP path: polled while not there, bounded, unzipped, parsed.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from itertools import groupby

import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import MalformedPayloadError, TooLargeError
from kmu_pipeline.landing import LandingStore
from kmu_pipeline.parse.sdmx_ml import iter_native_rows
from kmu_pipeline.replay import DEMO_SNAPSHOT
from kmu_pipeline.sources import eurostat, large_answers
from kmu_pipeline.sources.http import HttpClient, RetryPolicy
from tests.conftest import recorded_body
from tests.reliability import faults as f
from tests.reliability.conftest import CLOUD_ROWS, check_errors, query, refresh

ESTAT = "sdmx-samples/khaeru-sdmx-test-data_ESTAT"
FILE = "/file/7JUdWyAy4fmjBSWT"
DATA = "/data/isoc_cicce_use/"
ZIP = "application/octet-stream"
FOOTER_CT = "application/vnd.sdmx.genericdata+xml;version=2.1"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(large_answers, "FOOTER_POLL_SECONDS", 0.05)
    monkeypatch.setattr(large_answers, "FOOTER_MAX_WAIT", 1.0)


def _footer(reference, server) -> bytes:
    """The real footer, its file URL moved from ec.europa.eu to the local server."""
    text = (reference / ESTAT / "footer2.xml").read_bytes()
    return text.replace(b"http://ec.europa.eu/eurostat", server.url.encode() + b"/eurostat")


def _fetch(server, tmp_path, **client_kwargs):
    catalogue = load_catalogue()
    client = HttpClient(landing=LandingStore(tmp_path / "raw"), timeout=(2, 5),
                        retry=RetryPolicy(2, 5, 0.01, 0.05), **client_kwargs)
    landed = eurostat.fetch_dataset(catalogue.dataset("isoc_cicce_use"),
                                    catalogue.sources["eurostat"], client,
                                    server.base_url("eurostat"))
    return catalogue.dataset("isoc_cicce_use"), landed


def test_real_footer_is_followed_to_the_zip_and_its_message_parsed(faults, tmp_path, reference):
    archive = (reference / ESTAT / "footer2.zip").read_bytes()
    faults.add(DATA, f.body(_footer(reference, faults), FOOTER_CT))
    faults.add(FILE, f.status(404, b"not yet"), f.status(404, b"not yet"), f.body(archive, ZIP))
    dataset, (landed,) = _fetch(faults, tmp_path)
    assert len(faults.requests_to(FILE)) == 3  # two "not yet", then the file
    member = zipfile.ZipFile(io.BytesIO(archive)).read("DataResponse-7JUdWyAy4fmjBSWT.xml")
    assert landed.body_path(tmp_path / "raw").read_bytes() == member
    assert landed.url == f"{faults.url}/eurostat/SDMX/diss-web{FILE}"
    assert landed.extra["member"] == "DataResponse-7JUdWyAy4fmjBSWT.xml"
    rows = list(iter_native_rows(landed.body_path(tmp_path / "raw"), dataset, landed))
    assert len(rows) == 43
    assert rows[0] == {"unit": "CLV05_MEUR", "na_item": "B1GQ", "geo": "AL", "freq": "A",
                       "TIME_PERIOD": "2017", "OBS_VALUE": "9820.6", "OBS_FLAG": "e"}
    # the footer and the ZIP are kept as received too
    kept = {p.read_bytes() for p in (tmp_path / "raw").rglob("*.body")}
    assert archive in kept and _footer(reference, faults) in kept


def test_waiting_for_the_file_is_bounded(faults, tmp_path, reference):
    faults.add(DATA, f.body(_footer(reference, faults), FOOTER_CT))
    faults.add(FILE, f.status(404, b"not yet"))
    waits = []
    with pytest.raises(TooLargeError) as caught:
        _fetch(faults, tmp_path, sleep=lambda s: (waits.append(s), time.sleep(s)))
    assert waits and set(waits) == {0.05} and sum(waits) <= 1.0  # polls, within the bound
    message = str(caught.value)
    assert "dataset isoc_cicce_use" in message and DATA in message
    assert f"{FILE}, which was not there after" in message and "in 1s" in message
    assert 5 <= len(faults.requests_to(FILE)) <= 25


@pytest.mark.parametrize("where, cause", [
    (b"http://elsewhere.example/eurostat", "413 footer points to 'http://elsewhere.example"),
    (b"file:///etc/passwd#http://ec.europa.eu/eurostat", "not to the host asked"),
])
def test_footer_cannot_send_the_client_elsewhere(faults, tmp_path, reference, where, cause):
    text = (reference / ESTAT / "footer2.xml").read_bytes()
    faults.add(DATA, f.body(text.replace(b"http://ec.europa.eu/eurostat", where), FOOTER_CT))
    with pytest.raises(MalformedPayloadError, match=cause):
        _fetch(faults, tmp_path)
    assert faults.requests_to(FILE) == []


@pytest.mark.parametrize("archive, cause", [
    (b"<html>Service unavailable</html>", "is refused: not a readable ZIP"),
    ("two-members", "is refused: 2 members"),
    ("big-member", "exceeds the 20000 byte bound"),
    ("bomb", "compression ratio"),
])
def test_bad_archives_are_refused(faults, tmp_path, reference, archive, cause):
    real = (reference / ESTAT / "footer2.zip").read_bytes()
    if archive == "two-members":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("a.xml", "<a/>")
            zf.writestr("../../b.xml", "<b/>")
        archive = buffer.getvalue()
    elif archive == "bomb":  # 10 MB of zeros in ~10 kB: refused by its ratio, never inflated
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("DataResponse.xml", b"\0" * 10_000_000)
        archive = buffer.getvalue()
    elif archive == "big-member":  # the real member with a long comment: 50 kB from ~1.3 kB
        with zipfile.ZipFile(io.BytesIO(real)) as zf:
            (member,) = zf.infolist()
            xml = zf.read(member)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(member.filename, xml + b"<!--" + b" " * 40_000 + b"-->")
        archive = buffer.getvalue()
    faults.add(DATA, f.body(_footer(reference, faults), FOOTER_CT))
    faults.add(FILE, f.body(archive, ZIP))
    with pytest.raises(MalformedPayloadError, match=cause):
        _fetch(faults, tmp_path, max_body_bytes=20_000)  # the structure answer is ~13 kB
    assert not [p for p in (tmp_path / "raw").rglob("*") if p.name.startswith(".partial")]
    assert max(p.stat().st_size for p in (tmp_path / "raw").rglob("*.body")) < 100_000
    assert all(p.resolve().is_relative_to((tmp_path / "raw").resolve())
               for p in (tmp_path / "raw").rglob("*"))


def _structure_specific(csv_text: str) -> bytes:
    """The demo's SDMX-CSV answer as the structure-specific SDMX-ML Eurostat sends in a ZIP."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    dims = ["freq", "size_emp", "nace_r2", "indic_is", "unit", "geo"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<m:StructureSpecificData xmlns:m="http://'
           'www.sdmx.org/resources/sdmxml/schemas/v2_1/message" xmlns:s="http://www.sdmx.org/'
           'resources/sdmxml/schemas/v2_1/data/structurespecific" xmlns:u="urn:sdmx:org.sdmx.'
           'infomodel.datastructure.DataStructure=ESTAT:ISOC_CICCE_USE(1.0):ObsLevelDim:'
           'TIME_PERIOD"><m:Header><m:ID>KMUTEST</m:ID><m:Test>false</m:Test><m:Prepared>'
           '2026-02-27T23:00:00.000Z</m:Prepared><m:Sender id="ESTAT"/></m:Header>'
           '<u:DataSet s:structureRef="STR1" s:dataScope="DataStructure">']
    for key, obs in groupby(rows, key=lambda r: tuple(r[d] for d in dims)):
        out.append("<Series " + " ".join(f'{d}="{v}"' for d, v in zip(dims, key, strict=True))
                   + ">")
        for row in obs:
            attrs = f'TIME_PERIOD="{row["TIME_PERIOD"]}"'
            attrs += f' OBS_VALUE="{row["OBS_VALUE"]}"' if row["OBS_VALUE"] else ""
            attrs += f' OBS_FLAG="{row["OBS_FLAG"]}"' if row["OBS_FLAG"] else ""
            out.append(f"<Obs {attrs}/>")
        out.append("</Series>")
    out.append("</u:DataSet></m:StructureSpecificData>\n")
    return "".join(out).encode()


def test_large_answer_reaches_the_warehouse_like_a_direct_one(faults, tmp_path, reference):
    direct = tmp_path / "direct"
    assert refresh(faults, direct, datasets=("isoc_cicce_use",)).success
    csv_text = recorded_body(DEMO_SNAPSHOT, "isoc_cicce_use").read_text()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DataResponse-7JUdWyAy4fmjBSWT.xml", _structure_specific(csv_text))
    faults.add(DATA, f.body(_footer(reference, faults), FOOTER_CT))
    faults.add(FILE, f.status(404, b"not yet"), f.body(buffer.getvalue(), ZIP))
    result = refresh(faults, tmp_path, datasets=("isoc_cicce_use", "isoc_eb_bd"))
    assert result.success and check_errors(result) == {}
    sql = ("select geo, size_class, year, value, flag from raw.eurostat__isoc_cicce_use "
           "order by all")
    assert query(tmp_path / "kmu.duckdb", sql) == query(direct / "kmu.duckdb", sql)
    assert len(query(tmp_path / "kmu.duckdb", sql)) == CLOUD_ROWS
    urls = query(tmp_path / "kmu.duckdb", "select url from meta.requests where dataset = "
                                          "'raw.eurostat__isoc_cicce_use'")
    assert urls == [(f"{faults.url}/eurostat/SDMX/diss-web{FILE}",)]


def test_large_answer_never_ready_leaves_last_good_data_stale(faults, tmp_path, reference):
    assert refresh(faults, tmp_path).success
    faults.add(DATA, f.body(_footer(reference, faults), FOOTER_CT))
    faults.add(FILE, f.status(404, b"not yet"))
    errors = check_errors(refresh(faults, tmp_path))
    assert list(errors) == ["eurostat__isoc_cicce_use"]
    assert "which was not there after" in errors["eurostat__isoc_cicce_use"]
    assert query(tmp_path / "kmu.duckdb", "select status from meta.dataset_status order by "
                                          "dataset") == [("stale",), ("ok",)]
    assert query(tmp_path / "kmu.duckdb", "select count(*) from raw.eurostat__isoc_cicce_use"
                 ) == [(CLOUD_ROWS,)]
