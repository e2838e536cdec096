"""Issue 14: adding a source is one adapter, one parser and one catalogue section.

Everything a made-up source ("toystat", a CSV service) needs is written here, in the three
places a real one would be (the adapter and the parser would be `sources/toystat.py` and
`parse/toystat_csv.py`, the TOML a `[sources.toystat]` section and an entry in
`catalogue.toml`), plus the registry's one line. Nothing else of the package learns the name:
the raw asset factory, the refresh, pandera validation, the swap, the history and the publish
step take it as they take Eurostat.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from dagster import materialize

from kmu_pipeline.catalogue import Dataset, Source, parse_catalogue
from kmu_pipeline.chunk_insert import insert_frame
from kmu_pipeline.defs.assets import build_raw_asset
from kmu_pipeline.defs.checks import build_schema_check
from kmu_pipeline.defs.publish import build_publish_asset
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.sources import registry
from kmu_pipeline.sources.adapter import SourceAdapter
from kmu_pipeline.sources.http import HttpClient
from tests.reliability.conftest import query

# --- the catalogue section and entry ------------------------------------------------------
CATALOGUE = """
[sources.toystat]
base_url = "https://toystat.example/api"
base_url_env = "KMU_TOYSTAT_BASE_URL"
agency = "Toy Statistics Office"
scope = "national"
freshness = { warn_days = 40, fail_days = 400 }

[[datasets]]
name = "toy_cloud"
source = "toystat"
code = "cloud.csv"
title = "Cloud use by size class (toy)"
indicators = { CLOUD = "cloud_computing" }
units = { PCT = "pct_enterprises" }
"""

BODY = "geo,size,year,value,flag\nDE,10-49,2023,43.34,\nDE,250+,2023,77.6,\nAT,10-49,2023,,c\n"


# --- the parser: the body's rows in the observations model's columns ---------------------
def parse_toy_csv(landed: Landed, body: Path, dataset: Dataset) -> pd.DataFrame:
    frame = pd.read_csv(body, dtype={"geo": str, "size": str, "year": int, "value": float,
                                     "flag": str})
    return pd.DataFrame({
        "source": dataset.source, "dataset": dataset.name, "indicator": "cloud_computing",
        "indicator_code": "CLOUD", "size_class": frame["size"], "nace": "TOTAL",
        "geo": frame["geo"], "unit": "pct_enterprises", "year": frame["year"],
        "value": frame["value"], "flag": frame["flag"].where(frame["flag"].notna(), None),
        "conf_status": None, "last_update": None,
        "request_id": landed.request_id})


# --- the adapter ----------------------------------------------------------------------------
def _check(dataset: Dataset, source: Source, client: HttpClient, base_url: str) -> str:
    return "nothing to check: the toy service has no structure"


def _fetch(dataset: Dataset, source: Source, client: HttpClient, base_url: str) -> list[Landed]:
    request = Request(source="toystat", dataset=dataset.name, path=dataset.code,
                      accept="text/csv")
    return [client.fetch(request, base_url)]


def _load(con, target: str, dataset: Dataset, source: Source, landed: Landed,
          body: Path) -> int:
    return insert_frame(con, target, parse_toy_csv(landed, body, dataset))


TOYSTAT = SourceAdapter("toystat", check=_check, fetch=_fetch, load=_load)


class _Toy(BaseHTTPRequestHandler):
    body = BODY

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        found = self.path.endswith("/cloud.csv")
        payload = self.body.encode() if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def toy_server(request):
    handler = type("_Served", (_Toy,), {"body": getattr(request, "param", BODY)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _materialize_toy(tmp_path: Path, base_url: str):
    catalogue = parse_catalogue(CATALOGUE)
    asset = build_raw_asset(catalogue.dataset("toy_cloud"), catalogue)
    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "kmu.duckdb")),
        "sources": SourcesResource(landing_dir=str(tmp_path / "raw"),
                                   base_urls={"toystat": base_url}, max_attempts=1),
    }
    return asset, materialize([asset, build_schema_check(catalogue.dataset("toy_cloud")),
                               build_publish_asset(list(asset.keys))],
                              resources=resources, raise_on_error=False)


def test_a_new_source_is_an_adapter_a_parser_and_a_catalogue_section(tmp_path, toy_server,
                                                                     monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "toystat", TOYSTAT)  # the registry's one line
    asset, result = _materialize_toy(tmp_path, toy_server)
    policy = asset.specs_by_key[asset.key].freshness_policy  # the rhythm, from its section
    assert (policy.warn_window.to_timedelta().days, policy.fail_window.to_timedelta().days) \
        == (40, 400)
    assert result.success
    db = tmp_path / "kmu.duckdb"
    assert query(db, "select source, geo, size_class, year, value from raw.toystat__toy_cloud "
                     "order by geo, size_class") == [
        ("toystat", "AT", "10-49", 2023, None), ("toystat", "DE", "10-49", 2023, 43.34),
        ("toystat", "DE", "250+", 2023, 77.6)]
    assert query(db, "select status, checked, rows from meta.dataset_status") == [
        ("ok", "changed", 3)]
    # the raw table's history and its trace back to the request, as for any source
    assert query(db, "select count(*), min(change), max(change) from history.observations "
                     "where raw_table = 'raw.toystat__toy_cloud'") == [(3, "new", "new")]
    assert query(db, "select r.url from raw.toystat__toy_cloud o join meta.requests r "
                     "using (request_id) group by r.url") == [(f"{toy_server}/cloud.csv",)]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"refresh": True, "schema": True}


def test_an_unregistered_source_is_named_when_the_entry_is_refreshed(tmp_path, toy_server):
    catalogue = parse_catalogue(CATALOGUE)
    with pytest.raises(KeyError, match="no adapter for source 'toystat'"):
        registry.adapter_for(catalogue.dataset("toy_cloud").source)


@pytest.mark.parametrize("toy_server", [BODY.replace(",,c", ",,")], indirect=True)
def test_the_new_sources_rows_meet_the_models_schema_like_any_others(tmp_path, toy_server,
                                                                       monkeypatch):
    """A missing value without a flag: the new source's answer fails the observations model,
    the step that publishes fails, and the error names the dataset and the request."""
    monkeypatch.setitem(registry.ADAPTERS, "toystat", TOYSTAT)
    _, result = _materialize_toy(tmp_path, toy_server)
    assert not result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["refresh"].passed
    error = checks["refresh"].metadata["error"].value
    assert "dataset toy_cloud" in error and f"{toy_server}/cloud.csv" in error
    assert "missing_value_is_flagged" in error
    assert query(tmp_path / "kmu.duckdb", "select status from meta.dataset_status") == [
        ("stale",)]
