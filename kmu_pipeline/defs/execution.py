"""Running refresh_all from the CLI: in process (the default), or one process per step.

Every run is recorded in the project's Dagster instance (DAGSTER_HOME, by default
data/dagster_home beside the warehouse), the one `dagster dev` shows when started with the same
DAGSTER_HOME: the UI lists the CLI's runs and materialisations.

The multiprocess executor starts each step in its own process, which rebuilds the job from
`refresh_all_job` with resources from KMU_* environment variables; so the caller puts paths and
base URLs there. Steps of one run share the run's DuckDB build and take turns only for their
short writes (Warehouse.connect_build); downloads, parsing and validation run side by side.
"""

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import psutil
from dagster import (
    AssetKey,
    DagsterInstance,
    JobDefinition,
    JobExecutionResult,
    execute_job,
    reconstructable,
)

from kmu_pipeline.defs.definitions import build_definitions
from kmu_pipeline.defs.resources import resources_from_env
from kmu_pipeline.publication import is_leased

# the forkserver imports these before it forks steps; owner_watch starts its watch_owner()
PRELOAD = ["kmu_pipeline.defs.definitions", "kmu_pipeline.defs.owner_watch"]
OWNER_ENV = "KMU_RUN_OWNER_PID"  # the CLI process that runs the job
OWNER_POLL_SECONDS = 0.5
TEMP_INSTANCE_PREFIX = "kmu-dagster-"  # what parallel runs of earlier versions left in /tmp
HOME_DIR = "dagster_home"
# offline by default: no telemetry, no "join the community" dialog (it loads dagster.io)
INSTANCE_SETTINGS = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"


def project_home(warehouse: Path) -> Path:
    """DAGSTER_HOME when set, else data/dagster_home beside the warehouse (created)."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path(warehouse).resolve().parent / HOME_DIR)
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(INSTANCE_SETTINGS, encoding="utf-8")
    return home


@contextlib.contextmanager
def project_instance(warehouse: Path) -> Iterator[DagsterInstance]:
    """The project's persistent instance for one run; step processes and the UI find it by
    DAGSTER_HOME, which is set for the run and restored after it (a CLI called in process, as
    the tests do, must not leave it to whatever runs next)."""
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(project_home(warehouse))
    try:
        with DagsterInstance.get() as instance:
            yield instance
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = before


def quiet_loggers(verbose: bool) -> dict:
    """Run config for Dagster's console logger: its DEBUG event stream only with --verbose."""
    return {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "CRITICAL"}}}}


def refresh_all_job() -> JobDefinition:
    """refresh_all with resources from the environment (reconstructed in every step process)."""
    watch_owner()
    return build_definitions(resources_from_env()).resolve_job_def("refresh_all")


def watch_owner() -> None:
    """In a process a parallel run started (its forkserver, a step): end this process and all
    it started as soon as the CLI that owns the run is gone, even SIGKILLed. Otherwise a step
    holds its request and its log tails until they time out (issue 18.14); PR_SET_PDEATHSIG
    does not reach them, as their parent is the forkserver, which outlives the CLI."""
    owner = os.environ.get(OWNER_ENV)
    if not owner or int(owner) == os.getpid():
        return
    threading.Thread(target=_end_when_gone, args=(psutil.Process(int(owner)),),
                     name="kmu-owner-watch", daemon=True).start()


def _end_when_gone(owner: psutil.Process) -> None:
    while owner.is_running() and owner.status() != psutil.STATUS_ZOMBIE:
        time.sleep(OWNER_POLL_SECONDS)
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    os.kill(os.getpid(), signal.SIGKILL)


def multiprocess_config(max_concurrent: int) -> dict:
    """Run config for the multiprocess executor; forkserver forks steps from a process that has
    already imported Dagster and the definitions (a spawned step would import them again)."""
    return {"execution": {"config": {"multiprocess": {
        "max_concurrent": max_concurrent,
        "start_method": {"forkserver": {"preload_modules": PRELOAD}},
    }}}}


def run_multiprocess(env: Mapping[str, str], max_concurrent: int, instance: DagsterInstance,
                     run_config: Mapping | None = None,
                     tags: Mapping[str, str] | None = None,
                     asset_selection: Sequence[AssetKey] | None = None) -> JobExecutionResult:
    """Execute refresh_all (or `asset_selection` of it) with `max_concurrent` step processes;
    `env` sets KMU_* for them."""
    os.environ.update(env)
    os.environ[OWNER_ENV] = str(os.getpid())
    return execute_job(reconstructable(refresh_all_job), instance=instance,
                       run_config={**(run_config or {}), **multiprocess_config(max_concurrent)},
                       tags=tags, asset_selection=asset_selection)


def sweep_dead_instances(root: Path | None = None) -> list[Path]:
    """Remove the temporary instances that parallel runs of earlier versions left behind when
    killed (runs now use the project's instance): those whose lease nobody holds."""
    root = Path(root or tempfile.gettempdir())
    dead = [path for path in root.glob(f"{TEMP_INSTANCE_PREFIX}*")
            if path.is_dir() and not is_leased(path / "lease")]
    for path in dead:
        shutil.rmtree(path, ignore_errors=True)
    return dead
