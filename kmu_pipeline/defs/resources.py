"""Resources, configured from environment variables (read when the code location loads).

GENESIS credentials are deliberately not resource fields: Dagster shows resource config in its
UI, so sources/genesis.py reads them from the environment at request time instead.
"""


import os
from pathlib import Path

from dagster import ConfigurableResource

from kmu_pipeline.catalogue import Source
from kmu_pipeline.landing import LandingStore
from kmu_pipeline.sources.http import HttpClient, RetryPolicy
from kmu_pipeline.warehouse import Warehouse

DEFAULT_WAREHOUSE = "data/kmu.duckdb"
DEFAULT_LANDING = "data/raw"


class WarehouseResource(ConfigurableResource):
    """The published DuckDB file; runs write to a private build beside it."""

    path: str = DEFAULT_WAREHOUSE

    def get(self) -> Warehouse:
        return Warehouse(Path(self.path))


FORCE_ENV = "KMU_FORCE_REFRESH"  # 1: as `kmu-pipeline run --force`


class SourcesResource(ConfigurableResource):
    """Where requests go (live agencies or a replay server) and where bodies land."""

    landing_dir: str = DEFAULT_LANDING
    # source name -> base URL (a replay server's mount); absent: the catalogue's, or the
    # source's KMU_<SOURCE>_BASE_URL variable
    base_urls: dict[str, str] = {}
    max_attempts: int = 5
    max_retry_seconds: float = 120.0
    # one answer must arrive whole within this; everything one run waits for, within the budget
    request_deadline_seconds: float = 1800.0
    run_budget_seconds: float = 4 * 3600.0
    # True: ask every dataset's data whatever the agencies' release stamps and ETags say
    force_refresh: bool = False

    def base_url(self, source: Source) -> str:
        """Where `source` (the catalogue's record, handed in by the caller) is asked."""
        return self.base_urls.get(source.name, "") or source.resolved_base_url()

    def client(self, run_started: float | None = None) -> HttpClient:
        """A client bounded by the request deadline and, from `run_started` (epoch seconds),
        by the run's budget."""
        return HttpClient(
            landing=LandingStore(Path(self.landing_dir)),
            retry=RetryPolicy(max_attempts=self.max_attempts, max_seconds=self.max_retry_seconds),
            request_deadline=self.request_deadline_seconds,
            run_deadline=None if run_started is None else run_started + self.run_budget_seconds,
            conditional=not self.force_refresh,
        )


def resources_from_env() -> dict[str, ConfigurableResource]:
    """The resources a deployment uses: paths and base URLs from KMU_* variables."""
    return {
        "warehouse": WarehouseResource(path=os.environ.get("KMU_WAREHOUSE", DEFAULT_WAREHOUSE)),
        "sources": SourcesResource(landing_dir=os.environ.get("KMU_LANDING_DIR", DEFAULT_LANDING),
                                   force_refresh=os.environ.get(FORCE_ENV, "") == "1"),
    }
