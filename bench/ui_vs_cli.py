"""The demo run launched from the UI against the CLI's (issue 15.4: the UI run within 2x of it).

`PYTHONPATH=. python -m bench.ui_vs_cli --rounds 3`. Each round, each in a fresh folder: the
README's `kmu-pipeline run --replay`, and `refresh_all` launched through a dagster-webserver's
GraphQL API (what "Materialize all" sends) against the same recorded answers, with the resources
`dagster dev` gets (KMU_* variables). Times come from the run records: start to end (the run's
own work, in the CLI's process or in the run process the webserver launched) and, for the UI,
launch to end as well (the run process starting and loading the code). The webserver uses the
instance's immediate run coordinator (`dagster dev`'s daemon adds its dequeue interval).
Prints each round, the medians, their ratio and the load average before each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, RunsFilter
from dagster_graphql import DagsterGraphQLClient

from bench.adversarial.processes import REPO, cli_env, run_cli
from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.defs.execution import INSTANCE_SETTINGS
from kmu_pipeline.replay import DEMO_SNAPSHOT, ReplayServer
from tests.browser.test_dagster_ui import (
    IMMEDIATE_LAUNCH,
    _descendants,
    _free_port,
    _stop,
    _wait_for_server,
)

RUN_DEADLINE_S = 3600  # against a hung run only


@dataclass
class Timing:
    kind: str
    run_s: float       # the run record's start to end
    launch_s: float    # created (launched) to end
    wall_s: float      # CLI: the command, imports and replay server included; UI: the launch
    load: float        # 1-minute load average before the run


def _timing(kind: str, home: Path, wall_s: float, load: float) -> Timing:
    with DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.get_run_records(RunsFilter(job_name="refresh_all"))
        assert record.dagster_run.is_success, f"{kind} run {record.dagster_run.run_id} failed"
        stats = instance.get_run_stats(record.dagster_run.run_id)
    return Timing(kind, stats.end_time - stats.start_time,
                  stats.end_time - record.create_timestamp.timestamp(), wall_s, load)


def cli_round(folder: Path) -> Timing:
    load, started = os.getloadavg()[0], time.monotonic()
    done = run_cli("run", "--replay", cwd=folder, timeout=RUN_DEADLINE_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return _timing("cli", folder / "data" / "dagster_home", time.monotonic() - started, load)


def ui_round(folder: Path) -> Timing:
    home = folder / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_SETTINGS + IMMEDIATE_LAUNCH)
    with ReplayServer(DEMO_SNAPSHOT) as replay:
        sources = load_catalogue().sources
        env = cli_env({"DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore",
                       "KMU_WAREHOUSE": str(folder / "data" / "kmu.duckdb"),
                       "KMU_LANDING_DIR": str(folder / "data" / "raw"),
                       **{sources[name].base_url_env: url
                          for name, url in replay.base_urls(sources).items()}})
        port, log = _free_port(), folder / "webserver.log"
        with open(log, "wb") as out:
            server = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml",
                 "-h", "127.0.0.1", "-p", str(port)], cwd=REPO, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_for_server(server, f"http://127.0.0.1:{port}", log)
            load, started = os.getloadavg()[0], time.monotonic()
            run_id = DagsterGraphQLClient("127.0.0.1", port_number=port).submit_job_execution(
                "refresh_all", repository_location_name="kmu_pipeline", run_config={})
            _wait_for_run(home, run_id)
            wall_s = time.monotonic() - started
        finally:
            _stop(server, _descendants(server))
    return _timing("ui", home, wall_s, load)


def _wait_for_run(home: Path, run_id: str) -> None:
    deadline = time.monotonic() + RUN_DEADLINE_S
    with DagsterInstance.from_config(str(home)) as instance:
        while not instance.get_run_by_id(run_id).is_finished:
            assert time.monotonic() < deadline, f"run {run_id} unfinished after {RUN_DEADLINE_S} s"
            time.sleep(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    timings: list[Timing] = []
    for round_ in range(args.rounds):
        for kind, measure in (("cli", cli_round), ("ui", ui_round)):
            with tempfile.TemporaryDirectory(prefix=f"kmu-{kind}-") as folder:
                timing = measure(Path(folder))
            timings.append(timing)
            print(f"round {round_ + 1} {kind}: run {timing.run_s:.1f} s, from launch "
                  f"{timing.launch_s:.1f} s, wall {timing.wall_s:.1f} s, load before "
                  f"{timing.load:.2f}", flush=True)
    median = {kind: {field: statistics.median(getattr(t, field) for t in timings
                                              if t.kind == kind)
                     for field in ("run_s", "launch_s", "wall_s")} for kind in ("cli", "ui")}
    cli, ui = median["cli"], median["ui"]
    print(f"medians: cli run {cli['run_s']:.1f} s (command {cli['wall_s']:.1f} s); ui run "
          f"{ui['run_s']:.1f} s (from launch {ui['launch_s']:.1f} s); ui/cli "
          f"{ui['run_s'] / cli['run_s']:.2f} run to run, {ui['launch_s'] / cli['wall_s']:.2f} "
          f"launch to command; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
