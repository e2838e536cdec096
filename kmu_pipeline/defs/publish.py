"""The end of every run: its last step publishes the run's build, whatever was selected.

One run = one build = one publish (Warehouse.publish: one rename of the warehouse, then the
charts the run drew). A run that includes `warehouse/published` publishes there: it depends on
every asset, so it ends the run. In any other selection every step that writes the build notes
itself done when it ends (`finish_step`), and the step that completes the run's plan publishes.
So "Materialize" on one raw asset, one mart or one chart publishes exactly that, started from
the published generation, and `warehouse/published` selected alone has nothing to publish and
says so. A failed step leaves the plan incomplete: nothing of the run is published, and the
next run sweeps its build.

A dataset whose refresh failed keeps its last good table (marked stale) and the run goes on, so
every other dataset still reaches the marts and is published; the step that published then fails,
naming each dataset of the run that failed, so Dagster records a failed run that alerting and run
retries see (`conclude`).
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from kmu_pipeline.data_dictionary import write as write_dictionary
from kmu_pipeline.defs.inline_charts import copy_published
from kmu_pipeline.defs.metadata import OWNERS
from kmu_pipeline.defs.resources import WarehouseResource
from kmu_pipeline.warehouse import PublishResult, Warehouse

PUBLISHED = AssetKey(["warehouse", "published"])
PUBLISH_STEP = "__".join(PUBLISHED.path)


def planned_steps(run, job_def=None) -> set[str]:
    """The step keys of this run (a subset run names them; a whole-job run runs every node)."""
    if run.step_keys_to_execute is not None:
        return set(run.step_keys_to_execute)
    return {node.name for node in job_def.nodes} if job_def is not None else set()


def finish_step(context, warehouse: WarehouseResource) -> PublishResult | None:
    """End an asset or check step (`context` of either kind): the publish step publishes; in a
    run without it, the step that completes the run's plan does."""
    op_context = getattr(context, "op_execution_context", context)
    run, step, wh = op_context.run, str(op_context.op_handle), warehouse.get()
    result = _finish(wh, run.run_id, step, planned_steps(run, op_context.job_def))
    if result is not None and result.published:  # the UI shows published charts inline
        copy_published(op_context.instance, wh, run.run_id, result.charts)
    return result


def conclude(context, warehouse: WarehouseResource, metadata: dict | None = None,
             check_results: list[AssetCheckResult] | None = None,
             check_result: AssetCheckResult | None = None) -> Iterator:
    """End an asset step (yields its MaterializeResult with `metadata`) or a check step (yields
    `check_result`): note the step done, publishing when it is the run's last, and then fail the
    step if the publish kept a dataset whose refresh failed in this run."""
    published = finish_step(context, warehouse)
    extra = publish_metadata(published, warehouse.get()) if published is not None else {}
    if check_result is not None:  # a check that ended the run says what its publish did
        yield check_result.with_metadata({**check_result.metadata, **extra})
    else:
        yield MaterializeResult(metadata={**(metadata or {}), **extra},
                                check_results=check_results or [])
    failed = failed_in_run(context, published)
    if failed:
        raise Failure(
            description=f"published generation {published.generation}, but "
                        f"{len(failed)} dataset(s) of this run failed and kept their last good "
                        f"table: " + "; ".join(f"{d}: {e}" for d, e in failed),
            metadata={"failed_datasets": MetadataValue.text(", ".join(d for d, _ in failed))})


def failed_in_run(context, published: PublishResult | None) -> list[tuple[str, str]]:
    """(table, error) of the published stale datasets whose raw step ran in this run (a
    dataset stale since an earlier run is not this run's failure)."""
    if published is None or not published.published:
        return []
    op_context = getattr(context, "op_execution_context", context)
    planned = planned_steps(op_context.run, op_context.job_def)
    return [(table, error) for table, error in published.stale
            if table.replace(".", "__") in planned]


def _finish(wh: Warehouse, run_id: str, step: str, planned: set[str]) -> PublishResult | None:
    if PUBLISH_STEP in planned:  # it depends on every asset: the run ends there
        return _after(wh.publish(run_id), wh) if step == PUBLISH_STEP else None
    return _after(wh.finish_step(run_id, step, planned), wh)


def _after(result: PublishResult | None, wh: Warehouse) -> PublishResult | None:
    """The data dictionary beside a newly published file, written from its private base."""
    if result is not None and result.published:
        write_dictionary(result.base, dictionary_path(wh))
    return result


def dictionary_path(wh: Warehouse):
    return wh.path.parent / "data_dictionary.md"


def describe(result: PublishResult, wh: Warehouse) -> str:
    if not result.published:
        return result.reason
    return (f"published {wh.path} generation {result.generation} ({len(result.tables)} tables, "
            f"{len(result.charts)} charts, {len(result.stale)} stale datasets)")


def publish_metadata(result: PublishResult | None, wh: Warehouse) -> dict:
    """What the publish did, for the materialisation of the step that did it."""
    if result is None:
        return {"published": MetadataValue.text("by the run's last step, still running")}
    if not result.published:
        return {"published": MetadataValue.text(result.reason)}
    return {
        "published": MetadataValue.text(describe(result, wh)),
        "path": MetadataValue.path(str(wh.path.resolve())),
        "generation": MetadataValue.int(result.generation),
        "tables": MetadataValue.int(len(result.tables)),
        "data_dictionary": MetadataValue.path(str(dictionary_path(wh).resolve())),
        "table_list": MetadataValue.text(", ".join(result.tables)),
        "charts": MetadataValue.text(", ".join(p.name for p in result.charts) or "none"),
        "stale_datasets": MetadataValue.text(
            "; ".join(f"{d}: {e}" for d, e in result.stale) if result.stale else "none"),
    }


def build_publish_asset(upstream: list[AssetKey]) -> AssetsDefinition:
    @asset(key=PUBLISHED, deps=upstream, group_name="publish", kinds={"duckdb"}, owners=OWNERS,
           description="Publishes this run's build as the warehouse (one rename, the previous "
                       "file kept as kmu.prev.duckdb) and then the charts the run drew; readers "
                       "never see a mix of runs and are never blocked. Any run publishes at its "
                       "last step; selected alone, this has nothing to publish")
    def _publish(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator:
        yield from conclude(context, warehouse)

    return _publish
