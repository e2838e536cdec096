"""One asset per SQL model; upstream deps come from the tables its SQL reads."""


from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from kmu_pipeline.catalogue import Catalogue, load_catalogue
from kmu_pipeline.defs.metadata import table_metadata
from kmu_pipeline.defs.publish import finish_step, publish_metadata
from kmu_pipeline.defs.resources import WarehouseResource
from kmu_pipeline.sql_models import SqlModel, discover_models, run_model


def table_key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


def build_sql_asset(model: SqlModel) -> AssetsDefinition:
    @asset(
        key=table_key(model.table),
        deps=[table_key(t) for t in model.depends_on],
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        description=model.description or None,
        metadata={"sql_file": str(model.path.name) if model.path else "generated from catalogue"},
    )
    def _model(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.get().connect_build(context.run.run_id) as con:
            run_model(con, model)
            metadata = table_metadata(con, model.table)
        published = finish_step(context, warehouse)
        if published is not None:
            metadata.update(publish_metadata(published, warehouse.get()))
        return MaterializeResult(metadata=metadata)

    return _model


def sql_assets(catalogue: Catalogue | None = None) -> list[AssetsDefinition]:
    return [build_sql_asset(model) for model in discover_models(catalogue or load_catalogue())]
