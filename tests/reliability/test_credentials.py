"""Issue 18, points 1-3: credentials never travel to another origin, a credential a header
cannot carry is refused without being shown, and credentials a server echoes (in a header, or
JSON-escaped in a body) are never landed. Each through materialize against the fault server."""

from __future__ import annotations

import json
import logging

import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.assets import build_raw_asset
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.reliability import faults as f
from tests.reliability.conftest import CLOUD_ROWS, check_errors, query, refresh
from tests.reliability.faults import FaultServer
from tests.reliability.secrets_scan import find_secrets

USER, PASSWORD = "genesis-user-7f3a", 'Gen"3sis\\Fake-Pw!'  # JSON escapes " and \
TABLE = "/genesis/data/tablefile"


def _genesis(faults, tmp_path, caplog=None):
    if caplog is not None:
        caplog.set_level(logging.DEBUG)
    catalogue = load_catalogue()
    asset = build_raw_asset(catalogue.dataset("ikt_by_size"), catalogue)
    return refresh(faults, tmp_path, datasets=(), extra_assets=[asset],
                   base_urls={"genesis": faults.base_url("genesis")})


@pytest.fixture
def account(monkeypatch):
    monkeypatch.setenv("KMU_GENESIS_USERNAME", USER)
    monkeypatch.setenv("KMU_GENESIS_PASSWORD", PASSWORD)


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_to_another_origin_is_not_followed(faults, tmp_path, account, status):
    with FaultServer(DEMO_SNAPSHOT) as elsewhere:
        faults.add(TABLE, f.status(status, headers={"Location": f"{elsewhere.url}{TABLE}"}))
        error = check_errors(_genesis(faults, tmp_path))["genesis__ikt_by_size"]
        assert elsewhere.log == []  # neither the credentials nor the POST body went there
    assert f"HTTP {status} redirect to another origin (http://127.0.0.1:" in error
    assert "not followed" in error and "dataset ikt_by_size" in error


def test_a_redirect_within_the_origin_is_followed(faults, tmp_path):
    data = "/data/isoc_cicce_use/"
    csv = next(faults.index.root.glob("eurostat/isoc_cicce_use/data_*/*.body")).read_bytes()
    faults.add(data, f.status(302, headers={"Location": "/eurostat/moved/cloud.csv"}))
    faults.add("/moved/cloud.csv", f.body(csv, "application/vnd.sdmx.data+csv;version=1.0.0"))
    result = refresh(faults, tmp_path, datasets=("isoc_cicce_use",))
    assert check_errors(result) == {}
    assert faults.requests_to("/moved/cloud.csv")
    assert query(tmp_path / "kmu.duckdb",
                 "select count(*) from raw.eurostat__isoc_cicce_use") == [(CLOUD_ROWS,)]


@pytest.mark.parametrize("password, what", [
    ("Gen3sis-Fake-Pw!\n", "holds a control character"),
    ("Gen3sis-Fake-Pw-\u20ac", "holds a character an HTTP header cannot carry"),
])
def test_a_credential_a_header_cannot_carry_is_refused_unseen(faults, tmp_path, monkeypatch,
                                                              caplog, capfd, password, what):
    monkeypatch.setenv("KMU_GENESIS_USERNAME", USER)
    monkeypatch.setenv("KMU_GENESIS_PASSWORD", password)
    result = _genesis(faults, tmp_path, caplog)
    error = check_errors(result)["genesis__ikt_by_size"]
    assert f"KMU_GENESIS_PASSWORD {what}" in error and "its value is not shown" in error
    assert faults.requests_to("/genesis/") == []  # refused before anything went out
    captured = capfd.readouterr()
    assert find_secrets([password], files=[tmp_path], events=result.all_events,
                        logs=caplog.text + captured.out + captured.err,
                        warehouses=[tmp_path / "kmu.duckdb"]) == []


def _echo_credentials(handler, _body: bytes, ctype: str) -> None:
    """The demo's metadata answer with the password echoed raw in an ETag and
    Content-Disposition header and JSON-escaped in the body, as careless gateways do."""
    password = handler.headers.get("password", "")
    recorded = next(DEMO_SNAPSHOT.glob("genesis/ikt_by_size/metadata_table-*/*.body"))
    doc = json.loads(recorded.read_bytes())
    doc["Parameter"]["password"] = password  # json.dumps escapes it: Gen\"3sis\\Fake-Pw!
    handler.raw(200, json.dumps(doc).encode(), "application/json;charset=UTF-8",
                headers={"ETag": f'"{password}"',
                         "Content-Disposition": f"attachment; filename={password}.json"})


def test_echoed_credentials_are_not_landed(faults, tmp_path, account, caplog, capfd):
    faults.add("/genesis/metadata/table", _echo_credentials)
    result = _genesis(faults, tmp_path, caplog)
    assert check_errors(result) == {}  # the echo does not stop the table
    assert json.dumps(PASSWORD)[1:-1] != PASSWORD  # the body really holds an escaped form
    landed = next((tmp_path / "raw").glob("genesis/ikt_by_size/metadata_table-*"))
    meta = json.loads((landed / "response.json").read_text())
    assert meta["headers"]["etag"] == '"********"' and meta["redacted"] is True
    captured = capfd.readouterr()
    assert find_secrets([PASSWORD], users=[USER], files=[tmp_path], events=result.all_events,
                        logs=caplog.text + captured.out + captured.err,
                        warehouses=[tmp_path / "kmu.duckdb"]) == []
