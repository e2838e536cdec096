"""The code location: workspace.yaml and `dagster dev` load `defs` from here."""

from dagster import AssetsDefinition, Definitions

from kmu_pipeline.defs.assets import raw_assets
from kmu_pipeline.defs.charts import chart_assets
from kmu_pipeline.defs.checks import all_checks
from kmu_pipeline.defs.publish import build_publish_asset, publish_when_last
from kmu_pipeline.defs.resources import resources_from_env
from kmu_pipeline.defs.schedules import monthly_refresh, refresh_all
from kmu_pipeline.defs.sql import sql_assets


def project_assets() -> list[AssetsDefinition]:
    """Every asset, publish last (it depends on all the others)."""
    # raw assets note their step done through a hook; the others call finish_step themselves
    raw = [a.with_hooks({publish_when_last}) for a in raw_assets()]
    tables = [*raw, *sql_assets()]
    # charts are drawn into the run's build folder and published with its warehouse
    pictures = chart_assets()
    return [*tables, *pictures,
            build_publish_asset([key for a in [*tables, *pictures] for key in a.keys])]


def build_definitions(resources: dict | None = None) -> Definitions:
    return Definitions(
        assets=project_assets(),
        asset_checks=all_checks(),
        jobs=[refresh_all],
        schedules=[monthly_refresh],
        resources=resources or resources_from_env(),
    )


defs = build_definitions()
