"""One asset per seed and per SQL model; upstream deps come from the tables its SQL reads."""

from collections.abc import Callable, Iterator

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, asset

from kmu_pipeline.catalogue import Catalogue, load_catalogue
from kmu_pipeline.defs.metadata import OWNERS, code_version, table_metadata
from kmu_pipeline.defs.publish import conclude
from kmu_pipeline.defs.resources import WarehouseResource
from kmu_pipeline.defs.schedules import ON_UPSTREAM_CHANGE
from kmu_pipeline.lineage import raw_inputs
from kmu_pipeline.sql_models import (
    Seed,
    SqlModel,
    discover_models,
    discover_seeds,
    load_seed,
    run_model,
)
from kmu_pipeline.warehouse import table_fingerprint

MARTS = "marts"


def table_key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


def _table_asset(table: str, deps: list[AssetKey], description: str, kind: str, file: str,
                 version: str,
                 build: Callable[[duckdb.DuckDBPyConnection], int]) -> AssetsDefinition:
    """An asset that builds one table in the run's build, then ends its step (and publishes
    when it is the run's last). A table rebuilt as it was (same columns, comments and rows)
    is no change to publish."""
    @asset(key=table_key(table), deps=deps, group_name=table.split(".")[0],
           kinds={"duckdb", kind}, description=description or None,
           metadata={"sql_file" if kind == "sql" else "seed_file": file},
           owners=OWNERS, code_version=version, automation_condition=ON_UPSTREAM_CHANGE)
    def _table(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator:
        wh = warehouse.get()
        with wh.connect_build(context.run.run_id, counts_as_change=False) as con:
            before = table_fingerprint(con, table)
            build(con)
            if table_fingerprint(con, table) != before:
                wh.note_change(context.run.run_id, table)
            metadata = table_metadata(con, table)
        yield from conclude(context, warehouse, metadata)

    return _table


def build_sql_asset(model: SqlModel, raw_tables: tuple[str, ...] = ()) -> AssetsDefinition:
    """`raw_tables`: the raw datasets the model reads through staging.observations, declared
    so the asset graph shows which datasets feed which mart (lineage.py)."""
    deps = sorted(set(model.depends_on) | set(raw_tables))
    return _table_asset(model.table, [table_key(t) for t in deps], model.description,
                        "sql", str(model.path.name) if model.path else "generated from catalogue",
                        code_version(*model.definition), lambda con: run_model(con, model))


def build_seed_asset(seed: Seed) -> AssetsDefinition:
    return _table_asset(seed.table, [], seed.description, "csv", seed.path.name,
                        code_version(seed.path.read_text(encoding="utf-8"),
                                     seed.path.with_suffix(".toml").read_text(encoding="utf-8")),
                        lambda con: load_seed(con, seed))


def sql_assets(catalogue: Catalogue | None = None) -> list[AssetsDefinition]:
    catalogue = catalogue or load_catalogue()
    seeds, models = discover_seeds(), discover_models(catalogue)
    feeds = raw_inputs(models, seeds, catalogue)
    return ([build_seed_asset(seed) for seed in seeds]
            + [build_sql_asset(model, feeds[model.table] if model.schema == MARTS else ())
               for model in models])
