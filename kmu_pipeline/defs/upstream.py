"""The agencies' release signals as Dagster source assets (issue 17.3).

One observable source asset per catalogue entry, `upstream/<entry>`: observing it asks the one
signal request of its source (Eurostat's dataflow structure, GENESIS's table metadata) and
records the agency's last-update stamp (UPDATE_DATA, Updated) as its data version. The raw
asset depends on it, so the graph reads upstream -> raw -> marts -> charts, and declarative
automation materialises the raw asset when a new data version is observed; the `observe_upstream`
schedule observes every morning, and `monthly_refresh` stays as the backstop for sources that
state no stamp (the DESI download and the codelists: their data version is `none stated`, so
they never trigger a run by themselves; their data is asked conditionally instead).
"""

from __future__ import annotations

import warnings

from dagster import (
    AssetKey,
    AssetSelection,
    DataVersion,
    ObserveResult,
    ScheduleDefinition,
    SourceAsset,
    define_asset_job,
    observable_source_asset,
)
from dagster._utils.warnings import BetaWarning

from kmu_pipeline.catalogue import Catalogue, Dataset
from kmu_pipeline.defs.resources import SourcesResource
from kmu_pipeline.sources.registry import adapter_for

NO_STAMP = "none stated"
# observable_source_asset is marked beta in Dagster 1.13 (it is how the docs model external
# data with a version); one warning per catalogue entry would bury every CLI run's output
warnings.filterwarnings("ignore", message=".*observable_source_asset.*", category=BetaWarning)


def upstream_key(dataset: Dataset) -> AssetKey:
    return AssetKey(["upstream", dataset.asset_name])


def build_upstream_asset(dataset: Dataset, catalogue: Catalogue) -> SourceAsset:
    source = catalogue.sources[dataset.source]
    adapter = adapter_for(dataset.source)

    @observable_source_asset(
        key=upstream_key(dataset), group_name="upstream",
        description=f"{source.agency}'s last-update stamp of {dataset.code} (the data version; "
                    f"a new one starts raw/{dataset.asset_name})")
    def _observe(sources: SourcesResource) -> ObserveResult:
        base_url = sources.base_url(source)
        why = adapter.missing_credentials(base_url)
        if why is not None:  # nothing asked: the stamp is unknown, not changed
            return ObserveResult(data_version=None, metadata={"skipped": why})
        stamp = adapter.upstream_stamp(dataset, source, sources.client(), base_url)
        return ObserveResult(data_version=DataVersion(stamp or NO_STAMP),
                             metadata={"upstream_updated": stamp or NO_STAMP})

    return _observe


def upstream_assets(catalogue: Catalogue) -> list[SourceAsset]:
    return [build_upstream_asset(ds, catalogue) for ds in catalogue.datasets]


observe_upstream = define_asset_job(
    "observe_upstream", selection=AssetSelection.groups("upstream", include_sources=True),
    description="Ask each agency when its datasets last changed (one request per dataset)")
daily_observation = ScheduleDefinition(name="observe_upstream_daily", job=observe_upstream,
                                       cron_schedule="0 6 * * *",
                                       execution_timezone="Europe/Berlin")
