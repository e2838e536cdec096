"""The last step of every refresh: publish the run's build as data/kmu.duckdb, atomically."""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from kmu_pipeline.data_dictionary import write as write_dictionary
from kmu_pipeline.defs.resources import WarehouseResource

PUBLISHED = AssetKey(["warehouse", "published"])


def build_publish_asset(upstream: list[AssetKey]) -> AssetsDefinition:
    @asset(key=PUBLISHED, deps=upstream, group_name="publish", kinds={"duckdb"},
           description="Swaps this run's build in as the published warehouse (one rename), "
                       "keeping the previous file as kmu.prev.duckdb; readers never see a mix "
                       "of runs and are never blocked")
    def _publish(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        wh = warehouse.get()
        tables = wh.publish(context.run.run_id)
        wh.sweep_builds(keep=context.run.run_id)
        dictionary = write_dictionary(wh.path, wh.path.parent / "data_dictionary.md")
        with wh.read() as con:
            stale = con.execute("select dataset, error from meta.dataset_status "
                                "where status = 'stale' order by dataset").fetchall()
        return MaterializeResult(metadata={
            "path": MetadataValue.path(str(wh.path.resolve())),
            "tables": MetadataValue.int(len(tables)),
            "data_dictionary": MetadataValue.path(str(dictionary.resolve())),
            "table_list": MetadataValue.text(", ".join(tables)),
            "stale_datasets": MetadataValue.text(
                "; ".join(f"{d}: {e}" for d, e in stale) if stale else "none"),
        })

    return _publish
