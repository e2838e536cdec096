"""`kmu-pipeline` as a user runs it: a separate process, in its own session so that whatever it
starts can be found (and counted) after it is killed; and what a published warehouse holds
(tests/reliability/test_crash.py's fingerprint)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.reliability.test_crash import _fingerprint

# every table readable and its rows counted, the published runs in order
fingerprint = _fingerprint
REPO = Path(__file__).resolve().parents[2]


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kmu_pipeline.cli", *args]


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This checkout first on the path, so the CLI run is the code measured."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **(extra or {})}
    return env


def spawn_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(cli_command(*args), cwd=cwd, env=cli_env(env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    process = spawn_cli(*args, cwd=cwd, env=env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def session_processes(session: int) -> list[int]:
    """Processes still alive in a session (the CLI's, started with start_new_session)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            alive.append(int(stat.parent.name))
    return alive


def debris_bytes(data: Path) -> int:
    """What dead runs may leave: builds, half copies, staged charts, partial downloads."""
    build = data / ".build"
    paths = list(build.rglob("*")) if build.exists() else []
    paths += list((data / "raw").rglob(".partial-*"))
    return sum(p.stat().st_size for p in paths if p.is_file())
