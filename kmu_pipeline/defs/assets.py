"""Raw assets: one per catalogue entry, whatever its source and table model, by one factory."""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from kmu_pipeline.catalogue import Catalogue, Dataset
from kmu_pipeline.defs.metadata import table_metadata
from kmu_pipeline.defs.publish import finish_step, publish_metadata
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.ingest import IngestReport, refresh_dataset
from kmu_pipeline.schemas import column_descriptions, model_of

SCHEMA_CHECK = "schema"


def raw_key(dataset: Dataset) -> AssetKey:
    return AssetKey(["raw", dataset.asset_name])


def _report_metadata(report: IngestReport) -> dict:
    meta = {
        "stale": MetadataValue.bool(not report.ok),
        "unchanged_upstream": MetadataValue.bool(report.unchanged),
        "request_ids": MetadataValue.text(", ".join(i.request_id for i in report.landed)),
    }
    for n, item in enumerate(report.landed):
        meta[f"source_url_{n}" if n else "source_url"] = MetadataValue.url(item.url)
    for phase, seconds in report.seconds.items():  # fetch, load, validate, keys, swap (bench/)
        meta[f"seconds_{phase}"] = MetadataValue.float(round(seconds, 3))
    if report.error is not None:
        meta["error"] = MetadataValue.text(str(report.error))
    return meta


def _schema_check(report: IngestReport) -> AssetCheckResult:
    """The pandera result of this run's data (the table itself keeps the last good data)."""
    if report.ok:
        return AssetCheckResult(check_name=SCHEMA_CHECK, passed=True,
                                metadata={"rows_validated": report.rows})
    metadata = {"error": MetadataValue.text(str(report.error)),
                "error_type": MetadataValue.text(type(report.error).__name__)}
    if report.failure_cases is not None and len(report.failure_cases):
        metadata["failure_cases"] = MetadataValue.md(
            report.failure_cases.head(20).to_markdown(index=False))
    return AssetCheckResult(check_name=SCHEMA_CHECK, passed=False,
                            severity=AssetCheckSeverity.ERROR, metadata=metadata)


def build_raw_asset(dataset: Dataset) -> AssetsDefinition:
    key = raw_key(dataset)
    model = model_of(dataset.model)  # an unknown model fails when the definitions load
    has_last_update = "last_update" in column_descriptions(model)

    @asset(
        key=key,
        group_name="raw",
        kinds={"duckdb", dataset.source},
        description=f"{dataset.title} ({dataset.source} {dataset.code}) -> {dataset.table}",
        metadata={"catalogue_entry": dataset.name, "source_code": dataset.code,
                  "verified": dataset.verified or "-"},
        check_specs=[AssetCheckSpec(
            SCHEMA_CHECK, asset=key,
            description=f"This run's data passes the {model.__name__} pandera schema; on "
                        f"failure the last good table is kept and marked stale")],
    )
    def _raw(context: AssetExecutionContext, warehouse: WarehouseResource,
             sources: SourcesResource) -> MaterializeResult:
        wh = warehouse.get()
        run = context.instance.get_run_record_by_id(context.run.run_id)
        client = sources.client(run_started=run.start_time if run else None)
        report = refresh_dataset(dataset, client=client,
                                 base_url=sources.base_url(dataset.source), warehouse=wh,
                                 run_id=context.run.run_id)
        with wh.connect_build(context.run.run_id) as con:
            metadata = {**table_metadata(con, dataset.table), **_report_metadata(report)}
            if has_last_update:
                updates = con.execute(f"select string_agg(distinct last_update, ', ' order by "
                                      f"last_update) from {dataset.table}").fetchone()[0]
                metadata["source_last_update"] = MetadataValue.text(updates or "not stated")
        if report.error is not None:  # last good table kept and marked stale; say so in red
            context.log.error(str(report.error))
        published = finish_step(context, warehouse)  # the run's last step publishes it
        if published is not None:
            metadata.update(publish_metadata(published, wh))
        return MaterializeResult(metadata=metadata, check_results=[_schema_check(report)])

    return _raw


def raw_assets(catalogue: Catalogue) -> list[AssetsDefinition]:
    return [build_raw_asset(ds) for ds in catalogue.datasets]
