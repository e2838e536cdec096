"""Asset checks beyond each raw asset's own schema check."""


from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from kmu_pipeline.defs.publish import finish_step
from kmu_pipeline.defs.resources import WarehouseResource
from kmu_pipeline.defs.sql import table_key
from kmu_pipeline.desi import DESI_MART, MAX_DIFFERENCE, integration_reproduction
from kmu_pipeline.harmonisation import COMPARISON, DEFAULT_THRESHOLD, source_differences
from kmu_pipeline.sql_models import OBSERVATIONS
from kmu_pipeline.validation import validate_table


@asset_check(asset=table_key(OBSERVATIONS), blocking=True,
             description="The union of all sources passes the Observations schema, keys unique "
                         "across datasets; marts are not built from data that fails it")
def observations_schema(context: AssetCheckExecutionContext,
                        warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.get().connect_build(context.run.run_id) as con:
        result = validate_table(con, OBSERVATIONS)
    if result.passed:  # a failed blocking check leaves the run's plan unfinished: no publish
        finish_step(context, warehouse)
    metadata = {"rows_validated": result.rows}
    if not result.passed:
        cases = result.failure_cases.head(20)
        metadata["failures"] = MetadataValue.md(cases.to_markdown(index=False))
    return AssetCheckResult(passed=result.passed, metadata=metadata)


@asset_check(asset=table_key(COMPARISON), blocking=False,
             description=f"Destatis and Eurostat agree for Germany within {DEFAULT_THRESHOLD:g} "
                         f"points (warns, never fails: the sources differ by definition and "
                         f"rounding)")
def stg_germany_sources_agree(context: AssetCheckExecutionContext,
                              warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.get().connect_build(context.run.run_id) as con:
        result = source_differences(con)
    finish_step(context, warehouse)
    metadata = {"values_compared": result.compared,
                "max_abs_difference": result.max_abs_difference,
                "threshold": DEFAULT_THRESHOLD}
    if not result.agree:
        metadata["over_threshold"] = MetadataValue.md(
            result.over_threshold.head(30).to_markdown(index=False))
    return AssetCheckResult(passed=result.agree, severity=AssetCheckSeverity.WARN,
                            metadata=metadata)


@asset_check(asset=table_key(DESI_MART), blocking=False,
             description=f"DESI 2020 integration of digital technology recomputed from its raw "
                         f"indicators matches the published score of every country within "
                         f"{MAX_DIFFERENCE:g} points, with the same ranks")
def desi_integration_reproduced(context: AssetCheckExecutionContext,
                                warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.get().connect_build(context.run.run_id) as con:
        result = integration_reproduction(con)
    finish_step(context, warehouse)
    passed = result.pop("passed")
    return AssetCheckResult(passed=passed, metadata=result)


def all_checks() -> list:
    return [observations_schema, stg_germany_sources_agree, desi_integration_reproduced]
