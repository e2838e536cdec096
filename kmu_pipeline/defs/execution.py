"""Running refresh_all: in process (the default), or one process per step in parallel.

The multiprocess executor starts each step in its own process, which rebuilds the job from
`refresh_all_job` with resources from KMU_* environment variables; so the caller puts paths and
base URLs there. Steps of one run share the run's DuckDB build and take turns only for their
short writes (Warehouse.connect_build); downloads, parsing and validation run side by side.
"""

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dagster import (
    DagsterInstance,
    JobDefinition,
    JobExecutionResult,
    execute_job,
    reconstructable,
)

from kmu_pipeline.defs.definitions import build_definitions
from kmu_pipeline.defs.resources import resources_from_env
from kmu_pipeline.publication import hold_lease, is_leased, release_lease

PRELOAD = ["kmu_pipeline.defs.definitions"]
TEMP_INSTANCE_PREFIX = "kmu-dagster-"


def refresh_all_job() -> JobDefinition:
    """refresh_all with resources from the environment (reconstructed in every step process)."""
    return build_definitions(resources_from_env()).resolve_job_def("refresh_all")


def multiprocess_config(max_concurrent: int) -> dict:
    """Run config for the multiprocess executor; forkserver forks steps from a process that has
    already imported Dagster and the definitions (a spawned step would import them again)."""
    return {"execution": {"config": {"multiprocess": {
        "max_concurrent": max_concurrent,
        "start_method": {"forkserver": {"preload_modules": PRELOAD}},
    }}}}


def run_multiprocess(env: Mapping[str, str], max_concurrent: int,
                     instance: DagsterInstance | None = None) -> JobExecutionResult:
    """Execute refresh_all with `max_concurrent` step processes; `env` sets KMU_* for them.

    Without an instance (and without DAGSTER_HOME) runs are recorded in a temporary instance:
    the multiprocess executor needs a persistent one to hand events between processes.
    """
    os.environ.update(env)
    if instance is not None:
        return _execute(instance, max_concurrent)
    if os.environ.get("DAGSTER_HOME"):
        with DagsterInstance.get() as home:
            return _execute(home, max_concurrent)
    sweep_dead_instances()
    with tempfile.TemporaryDirectory(prefix=TEMP_INSTANCE_PREFIX) as tmp:
        lease = Path(tmp) / "lease"
        hold_lease(lease)  # the instance is in use while this process lives
        try:
            with DagsterInstance.local_temp(tempdir=tmp) as temp:
                return _execute(temp, max_concurrent)
        finally:
            release_lease(lease)


def sweep_dead_instances(root: Path | None = None) -> list[Path]:
    """Remove the temporary instances of parallel runs whose process died (a killed CLI never
    reaches TemporaryDirectory's cleanup): those whose lease nobody holds."""
    root = Path(root or tempfile.gettempdir())
    dead = [path for path in root.glob(f"{TEMP_INSTANCE_PREFIX}*")
            if path.is_dir() and not is_leased(path / "lease")]
    for path in dead:
        shutil.rmtree(path, ignore_errors=True)
    return dead


def _execute(instance: DagsterInstance, max_concurrent: int) -> JobExecutionResult:
    return execute_job(reconstructable(refresh_all_job), instance=instance,
                       run_config=multiprocess_config(max_concurrent))
