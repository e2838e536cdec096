"""The code location: workspace.yaml and `dagster dev` load `defs` from here."""


from dagster import Definitions

from kmu_pipeline.defs.assets import raw_assets
from kmu_pipeline.defs.checks import all_checks
from kmu_pipeline.defs.publish import build_publish_asset
from kmu_pipeline.defs.resources import resources_from_env
from kmu_pipeline.defs.schedules import monthly_refresh, refresh_all
from kmu_pipeline.defs.sql import sql_assets


def build_definitions(resources: dict | None = None) -> Definitions:
    tables = [*raw_assets(), *sql_assets()]
    publish = build_publish_asset([key for a in tables for key in a.keys])
    return Definitions(
        assets=[*tables, publish],
        asset_checks=all_checks(),
        jobs=[refresh_all],
        schedules=[monthly_refresh],
        resources=resources or resources_from_env(),
    )


defs = build_definitions()
