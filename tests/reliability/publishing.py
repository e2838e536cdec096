"""Helpers of the publish-protocol tests: runs of a subset
of assets through the project's own job, what the published files say."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetKey
from PIL import Image

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.definitions import build_definitions
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.publication import read_record
from tests.conftest import TEST_RETRIES

CHART = AssetKey(["charts", "abb2_digital_integration"])
CHART_FILE = "abb2_digital_integration.png"


def run_selection(workdir: Path, server, keys: list[AssetKey]):
    """refresh_all restricted to `keys`, in process, as "Materialize" on a selection does."""
    defs = build_definitions({
        "warehouse": WarehouseResource(path=str(workdir / "kmu.duckdb")),
        "sources": SourcesResource(
            landing_dir=str(workdir / "raw"),
            base_urls=server.base_urls(load_catalogue().sources),
            **TEST_RETRIES, force_refresh=True),
    })
    return defs.resolve_job_def("refresh_all").execute_in_process(
        asset_selection=keys, raise_on_error=False)


def outdate_chart(workdir: Path, name: str = CHART_FILE) -> None:
    """Put another picture where the published chart is (one an older drawing code made, say):
    a run that draws the chart then has a change to publish."""
    Image.new("RGB", (4, 3), "white").save(workdir / "charts" / name)


def outdate_table(workdir: Path, table: str) -> None:
    """Drop a row of `table` in the private base the next build starts from (as if its SQL
    had changed since it was published): a run that rebuilds it then has a change to publish."""
    base = workdir / ".published" / f"base-{read_record(workdir / '.published').generation}.duckdb"
    con = duckdb.connect(str(base))
    try:
        con.execute(f"delete from {table} where rowid = (select min(rowid) from {table})")
    finally:
        con.close()


def published_runs(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r for (r,) in con.execute("select run_id from meta.runs order by published_at")
                .fetchall()]
    finally:
        con.close()


def chart_source(workdir: Path, name: str = CHART_FILE) -> str:
    """The source line (with the run id) in a published chart's PNG text chunk."""
    return Image.open(workdir / "charts" / name).text["Source"]


def builds_left(workdir: Path) -> list[str]:
    build_dir = workdir / ".build"
    return sorted(p.name for p in build_dir.glob("*.duckdb")) if build_dir.exists() else []
