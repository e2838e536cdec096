"""Blocking checks of the tables the marts are built from, and the source comparisons.

A failed blocking check stops what is downstream of its table and leaves the run's plan
unfinished, so nothing of that run is published (publish.py): it guards against a table that
fails its own schema in the build, which a refresh never swaps in.
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from kmu_pipeline.catalogue import Catalogue, Dataset, load_catalogue
from kmu_pipeline.defs.assets import raw_key
from kmu_pipeline.defs.publish import conclude
from kmu_pipeline.defs.resources import WarehouseResource
from kmu_pipeline.defs.sql import MARTS, table_key
from kmu_pipeline.desi import DESI_MART, MAX_DIFFERENCE, integration_reproduction
from kmu_pipeline.harmonisation import COMPARISON, DEFAULT_THRESHOLD, source_differences
from kmu_pipeline.schemas import Observations, described_columns, model_of
from kmu_pipeline.sql_models import OBSERVATIONS, discover_models
from kmu_pipeline.validation import validate_table

SCHEMA_CHECK = "schema"


def _validated(context, warehouse: WarehouseResource, table: str, model) -> Iterator:
    """A blocking check's evaluation of `table` in the run's build against its pandera model;
    only a passing one ends the step (a failing one leaves the plan unfinished: no publish)."""
    with warehouse.get().connect_build(context.run.run_id, counts_as_change=False) as con:
        result = validate_table(con, table, model)
    metadata = {"rows_validated": result.rows, "table": table}
    if not result.passed:
        cases = result.failure_cases.head(20)
        metadata["failures"] = MetadataValue.md(cases.to_markdown(index=False))
        yield AssetCheckResult(passed=False, metadata=metadata)
        return
    yield from conclude(context, warehouse,
                        check_result=AssetCheckResult(passed=True, metadata=metadata))


def build_schema_check(dataset: Dataset) -> AssetChecksDefinition:
    """The blocking schema check of one raw table; it can be run alone from the UI."""
    model = model_of(dataset.model)

    @asset_check(asset=raw_key(dataset), name=SCHEMA_CHECK, blocking=True,
                 description=f"{dataset.table} in the build passes the {model.__name__} pandera "
                             f"schema; nothing downstream is built from a table that fails it")
    def _schema(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator:
        yield from _validated(context, warehouse, dataset.table, model)

    return _schema


@asset_check(asset=table_key(OBSERVATIONS), blocking=True,
             description="The union of all sources passes the Observations schema, keys unique "
                         "across datasets; marts are not built from data that fails it")
def observations_schema(context: AssetCheckExecutionContext,
                        warehouse: WarehouseResource) -> Iterator:
    yield from _validated(context, warehouse, OBSERVATIONS, Observations)


@asset_check(asset=table_key(COMPARISON), blocking=False,
             description=f"Destatis and Eurostat agree for Germany within {DEFAULT_THRESHOLD:g} "
                         f"points (warns, never fails: the sources differ by definition and "
                         f"rounding)")
def stg_germany_sources_agree(context: AssetCheckExecutionContext,
                              warehouse: WarehouseResource) -> Iterator:
    with warehouse.get().connect_build(context.run.run_id, counts_as_change=False) as con:
        result = source_differences(con)
    metadata = {"values_compared": result.compared,
                "max_abs_difference": result.max_abs_difference,
                "threshold": DEFAULT_THRESHOLD}
    if not result.agree:
        metadata["over_threshold"] = MetadataValue.md(
            result.over_threshold.head(30).to_markdown(index=False))
    yield from conclude(context, warehouse, check_result=AssetCheckResult(
        passed=result.agree, severity=AssetCheckSeverity.WARN, metadata=metadata))


@asset_check(asset=table_key(DESI_MART), blocking=False,
             description=f"DESI 2020 integration of digital technology recomputed from its raw "
                         f"indicators matches the published score of every country within "
                         f"{MAX_DIFFERENCE:g} points, with the same ranks")
def desi_integration_reproduced(context: AssetCheckExecutionContext,
                                warehouse: WarehouseResource) -> Iterator:
    with warehouse.get().connect_build(context.run.run_id, counts_as_change=False) as con:
        result = integration_reproduction(con)
    passed = result.pop("passed")
    yield from conclude(context, warehouse,
                        check_result=AssetCheckResult(passed=passed, metadata=result))


# Marts the demo snapshot leaves empty, and why: their emptiness warns (yellow), never blocks.
# Every other mart must have rows.
MAY_BE_EMPTY = {
    "marts.firms_behind": "needs the enterprise register (GENESIS 52111), which the demo "
                          "snapshot holds no rows of",
}
# By the naming rule (STYLE.md: units as suffix), a wide table's *_pct column is a share
RANGES = {"_pct": (0.0, 100.0), "_count": (0.0, None)}


def out_of_range(con, table: str) -> dict[str, int]:
    """Rows per column of `table` outside its unit's range (*_pct in [0, 100], *_count >= 0)."""
    columns = [name for name, _, _ in described_columns(con, table)]
    bad = {}
    for column in columns:
        for suffix, (low, high) in RANGES.items():
            if column.endswith(suffix):
                count = con.execute(
                    f'select count(*) from {table} where "{column}" < $low or '
                    f'"{column}" > coalesce($high, "{column}")',
                    {"low": low, "high": high}).fetchone()[0]
                if count:
                    bad[column] = int(count)
    return bad


def build_mart_check(table: str) -> AssetChecksDefinition:
    """A mart has rows (unless MAY_BE_EMPTY says why not) and values in their units' range."""
    may_be_empty = MAY_BE_EMPTY.get(table)

    @asset_check(asset=table_key(table), name="rows_and_ranges", blocking=True,
                 description=f"{table} has rows"
                             + (f" (warns when empty: {may_be_empty})" if may_be_empty else "")
                             + "; every *_pct value in [0, 100], every *_count >= 0")
    def _mart(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator:
        with warehouse.get().connect_build(context.run.run_id, counts_as_change=False) as con:
            rows = con.execute(f"select count(*) from {table}").fetchone()[0]
            bad = out_of_range(con, table)
        metadata = {"dagster/row_count": rows,
                    "out_of_range": MetadataValue.json(bad) if bad else "none"}
        if bad or (not rows and not may_be_empty):
            yield AssetCheckResult(passed=False, metadata=metadata)  # blocks: no publish
            return
        warn = AssetCheckSeverity.WARN
        yield from conclude(context, warehouse, check_result=AssetCheckResult(
            passed=bool(rows), severity=warn, metadata=metadata,
            description=None if rows else f"empty: {may_be_empty}"))

    return _mart


def all_checks(catalogue: Catalogue | None = None) -> list:
    catalogue = catalogue or load_catalogue()
    marts = [m.table for m in discover_models(catalogue) if m.schema == MARTS]
    return [*(build_schema_check(ds) for ds in catalogue.datasets),
            *(build_mart_check(table) for table in marts), observations_schema,
            stg_germany_sources_agree, desi_integration_reproduced]
