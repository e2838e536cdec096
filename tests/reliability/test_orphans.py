"""Issue 18.14: a killed `kmu-pipeline run --parallel` leaves no process behind.

The run's step processes are held in a request the fault server stalls (longer than the
client's 120 s read timeout), so any step process that outlived the kill would still be there
when the polls end. The CLI is killed with SIGTERM, SIGINT or SIGKILL once a stalled request
has arrived; every process it had started must be gone within POLLS polls.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from kmu_pipeline.catalogue import load_catalogue
from tests.processes import alive
from tests.reliability import faults as f

STALLED = "/data/isoc_cicce_use/"
POLL_S = 0.5
POLLS = 60  # the kill takes effect at once; a loaded machine gets many polls' grace
START_POLLS = 1200  # the CLI and two step processes start (about 20 s on an idle machine)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_a_killed_parallel_run_leaves_no_process(faults, tmp_path, sig):
    faults.add(STALLED, f.stalled(600))
    sources = load_catalogue().sources
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"),
           **{source.base_url_env: faults.base_url(name) for name, source in sources.items()}}
    cli = subprocess.Popen(
        [sys.executable, "-m", "kmu_pipeline.cli", "--warehouse", str(tmp_path / "kmu.duckdb"),
         "run", "--landing", str(tmp_path / "raw"), "--parallel", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)  # the test can always clean up the whole session
    try:
        for _ in range(START_POLLS):
            if faults.requests_to(STALLED) or cli.poll() is not None:
                break
            time.sleep(POLL_S)
        assert cli.poll() is None and faults.requests_to(STALLED), "no step reached the stall"
        started = psutil.Process(cli.pid).children(recursive=True)
        assert len(started) >= 2, started  # the forkserver and at least one step process
        cli.send_signal(sig)
        for _ in range(POLLS):
            left = alive(started)
            if not left:
                break
            time.sleep(POLL_S)
        assert not left, [f"{p.pid} {p.cmdline()[-3:]}" for p in left]
        # SIGTERM and SIGINT: Dagster ends the run (failed) and the CLI says nothing was published
        assert cli.wait(POLLS * POLL_S) == (-sig if sig == signal.SIGKILL else 1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cli.pid, signal.SIGKILL)
        cli.wait()
