"""Raw assets: one per catalogue entry, whatever its source and table model, by one factory.

Each raw asset carries a `refresh` check (this run's answer was accepted: fetched, parsed and
valid; on failure the last good table is kept and marked stale) and a freshness policy matched
to its source's release rhythm; checks.py adds the blocking `schema` check of the table itself.
"""

from collections.abc import Iterator
from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    FreshnessPolicy,
    MetadataValue,
    asset,
)

from kmu_pipeline.catalogue import Catalogue, Dataset
from kmu_pipeline.defs.metadata import OWNERS, code_version, table_metadata
from kmu_pipeline.defs.publish import conclude
from kmu_pipeline.defs.resources import SourcesResource, WarehouseResource
from kmu_pipeline.defs.schedules import ON_UPSTREAM_CHANGE
from kmu_pipeline.defs.upstream import upstream_key
from kmu_pipeline.history import vintage_count
from kmu_pipeline.ingest import IngestReport, entry_digest, refresh_dataset
from kmu_pipeline.schemas import column_descriptions, model_of

REFRESH_CHECK = "refresh"

def freshness_policy(dataset: Dataset, catalogue: Catalogue) -> FreshnessPolicy | None:
    """The source's release rhythm (catalogue `freshness`) as (warn, fail) windows since the
    raw table's last materialisation; none for a closed edition."""
    days = catalogue.sources[dataset.source].freshness
    if days is None:
        return None
    return FreshnessPolicy.time_window(warn_window=timedelta(days=days[0]),
                                       fail_window=timedelta(days=days[1]))


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


def _status_metadata(con, dataset: Dataset) -> dict:
    """When the table last took a good answer (a stale dataset keeps an older one)."""
    row = con.execute("select status, last_success_at, checked, upstream_updated "
                      "from meta.dataset_status where dataset = ?", [dataset.table]).fetchone()
    status, last_success, checked, stamp = row if row else ("never loaded", None, None, None)
    return {"dataset_status": MetadataValue.text(status),
            "last_success_at": MetadataValue.text(str(last_success or "never")),
            "upstream_check": MetadataValue.text(checked or "not_checked"),
            "upstream_updated": MetadataValue.text(stamp or "not stated"),
            "vintage_count": MetadataValue.int(vintage_count(con, dataset.table))}


def _refresh_check(report: IngestReport) -> AssetCheckResult:
    """Whether this run's answer was accepted (the table itself keeps the last good data)."""
    if report.ok:
        return AssetCheckResult(check_name=REFRESH_CHECK, passed=True,
                                metadata={"rows_validated": report.rows})
    metadata = {"error": MetadataValue.text(str(report.error)),
                "error_type": MetadataValue.text(type(report.error).__name__)}
    if report.failure_cases is not None and len(report.failure_cases):
        metadata["failure_cases"] = MetadataValue.md(
            report.failure_cases.head(20).to_markdown(index=False))
    # skipped (no credentials for the source): nothing was asked, so it warns, never fails
    severity = AssetCheckSeverity.WARN if report.status == "skipped" else AssetCheckSeverity.ERROR
    return AssetCheckResult(check_name=REFRESH_CHECK, passed=False, severity=severity,
                            metadata={**metadata, "status": report.status})


def build_raw_asset(dataset: Dataset, catalogue: Catalogue) -> AssetsDefinition:
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
        owners=OWNERS, code_version=code_version(entry_digest(dataset), model.__name__),
        freshness_policy=freshness_policy(dataset, catalogue),
        deps=[upstream_key(dataset)], automation_condition=ON_UPSTREAM_CHANGE,
        check_specs=[AssetCheckSpec(
            REFRESH_CHECK, asset=key,
            description=f"This run's answer was fetched, read and passes the {model.__name__} "
                        f"pandera schema; on failure the last good table is kept and marked "
                        f"stale, every other dataset still publishes and the run fails")],
    )
    def _raw(context: AssetExecutionContext, warehouse: WarehouseResource,
             sources: SourcesResource) -> Iterator:
        wh = warehouse.get()
        run = context.instance.get_run_record_by_id(context.run.run_id)
        client = sources.client(run_started=run.start_time if run else None)
        report = refresh_dataset(dataset, client=client,
                                 base_url=sources.base_url(catalogue.sources[dataset.source]),
                                 warehouse=wh,
                                 run_id=context.run.run_id, catalogue=catalogue)
        with wh.connect_build(context.run.run_id, counts_as_change=False) as con:
            metadata = {**table_metadata(con, dataset.table), **_report_metadata(report)}
            metadata.update(_status_metadata(con, dataset))
            if has_last_update:
                updates = con.execute(f"select string_agg(distinct last_update, ', ' order by "
                                      f"last_update) from {dataset.table}").fetchone()[0]
                metadata["source_last_update"] = MetadataValue.text(updates or "not stated")
        if report.error is not None:  # last good table kept and marked stale; say so in red
            context.log.error(str(report.error))
        yield from conclude(context, warehouse, metadata, check_results=[_refresh_check(report)])

    return _raw


def raw_assets(catalogue: Catalogue) -> list[AssetsDefinition]:
    return [build_raw_asset(ds, catalogue) for ds in catalogue.datasets]
