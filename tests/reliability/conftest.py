"""Fixtures of the fault-injection suite: a fault server over the demo snapshot, quick refreshes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.assets import build_raw_asset
from kmu_pipeline.defs.publish import build_publish_asset
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.conftest import TEST_RETRIES
from tests.reliability.faults import FaultServer

# the demo's isoc_cicce_use answer: 26 E_CC and 447 E_CC1_SI observations
CLOUD_ROWS = 473


@pytest.fixture
def faults():
    with FaultServer(DEMO_SNAPSHOT) as server:
        yield server


def refresh(server_or_url, workdir: Path, datasets=("isoc_cicce_use", "isoc_eb_bd"),
            extra_assets=(), **source_kwargs):
    """materialize() the raw assets of `datasets` and the publish step against a server.

    Forced by default: the fault server changes a flow's answer without a new release stamp,
    and a bad answer must be met to be refused (tests/replay/test_release_aware.py covers the
    stamps)."""
    base = server_or_url if isinstance(server_or_url, str) else server_or_url.base_url("eurostat")
    catalogue = load_catalogue()
    assets = [build_raw_asset(catalogue.dataset(name), catalogue) for name in datasets]
    keys = [key for a in [*assets, *extra_assets] for key in a.keys]
    base_urls = {"eurostat": base, **source_kwargs.pop("base_urls", {})}
    source_kwargs = {**TEST_RETRIES, "force_refresh": True,
                     **source_kwargs}
    resources = {
        "warehouse": WarehouseResource(path=str(workdir / "kmu.duckdb")),
        "sources": SourcesResource(landing_dir=str(workdir / "raw"), base_urls=base_urls,
                                   **source_kwargs),
    }
    return materialize([*assets, *extra_assets, build_publish_asset(keys)],
                       resources=resources, raise_on_error=False)


def check_errors(result) -> dict[str, str]:
    """Failed schema checks of a result: raw table name -> error text."""
    return {e.asset_check_key.asset_key.path[-1]: e.metadata["error"].value
            for e in result.get_asset_check_evaluations() if not e.passed}


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
