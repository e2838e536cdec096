"""The code location: workspace.yaml and `dagster dev` load `defs` from here."""

from dagster import AssetsDefinition, Definitions, in_process_executor

from kmu_pipeline.catalogue import Catalogue, load_catalogue
from kmu_pipeline.defs.assets import raw_assets
from kmu_pipeline.defs.charts import chart_assets
from kmu_pipeline.defs.checks import all_checks
from kmu_pipeline.defs.publish import build_publish_asset
from kmu_pipeline.defs.resources import resources_from_env
from kmu_pipeline.defs.schedules import monthly_refresh, refresh_all
from kmu_pipeline.defs.sql import sql_assets
from kmu_pipeline.defs.upstream import daily_observation, observe_upstream, upstream_assets


def project_assets(catalogue: Catalogue | None = None,
                   charts: bool = True) -> list[AssetsDefinition]:
    """Every asset, publish last (it depends on all the others); without the charts, the
    tables and a publish step that waits for them only."""
    catalogue = catalogue or load_catalogue()
    tables = [*raw_assets(catalogue), *sql_assets(catalogue)]
    # charts are drawn into the run's build folder and published with its warehouse
    pictures = chart_assets(catalogue) if charts else []
    return [*tables, *pictures,
            build_publish_asset([key for a in [*tables, *pictures] for key in a.keys])]


def build_definitions(resources: dict | None = None) -> Definitions:
    catalogue = load_catalogue()  # read once: every factory is handed the same records
    return Definitions(
        # the agencies' release stamps, observed daily; a new one starts its raw asset
        assets=[*upstream_assets(catalogue), *project_assets(catalogue)],
        asset_checks=all_checks(catalogue),
        jobs=[refresh_all, observe_upstream],
        schedules=[monthly_refresh, daily_observation],
        resources=resources or resources_from_env(),
        # "Materialize" in the UI runs in one process, like the CLI (see schedules.py)
        executor=in_process_executor,
    )


defs = build_definitions()
