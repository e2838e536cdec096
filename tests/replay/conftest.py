"""Run the real Dagster definitions in process against replay servers."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.checks import all_checks
from kmu_pipeline.defs.definitions import project_assets
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.replay import ReplayServer
from tests.conftest import TEST_RETRIES


def materialize_all(recordings: Path, workdir: Path, instance: DagsterInstance | None = None,
                    charts: bool = True, **source_kwargs):
    """materialize() every asset and check of the project against `recordings`, in process
    (recorded in `instance` when given, else in an ephemeral one); without the charts when a
    test is about the data only (a third of a run's time is drawing them)."""
    with ReplayServer(recordings) as server:
        return materialize_against(server, workdir, instance, charts=charts, **source_kwargs)


def observe_upstream(recordings: Path, workdir: Path, instance: DagsterInstance):
    """The project's observe_upstream job against `recordings`: each entry's release stamp."""
    from kmu_pipeline.defs.definitions import build_definitions

    with ReplayServer(recordings) as server:
        defs = build_definitions({
            "warehouse": WarehouseResource(path=str(workdir / "kmu.duckdb")),
            "sources": SourcesResource(landing_dir=str(workdir / "raw"),
                                       base_urls=server.base_urls(load_catalogue().sources))})
        return defs.resolve_job_def("observe_upstream").execute_in_process(instance=instance)


def materialize_against(server: ReplayServer, workdir: Path,
                        instance: DagsterInstance | None = None, charts: bool = True,
                        **source_kwargs):
    """materialize_all against a server already running (a fault server, say)."""
    resources = {
        "warehouse": WarehouseResource(path=str(workdir / "kmu.duckdb")),
        "sources": SourcesResource(
            landing_dir=str(workdir / "raw"),
            base_urls=server.base_urls(load_catalogue().sources),
            **TEST_RETRIES, **source_kwargs,
        ),
    }
    return materialize([*project_assets(charts=charts), *all_checks()], resources=resources,
                       instance=instance, raise_on_error=False)


@pytest.fixture
def run_pipeline():
    """materialize_all, forced: tests edit recordings without changing their release stamp."""
    return functools.partial(materialize_all, force_refresh=True)
