"""(c) `kmu-pipeline run --replay` killed at random times with SIGKILL or SIGTERM. After each
kill: no process of the run is left, the published warehouse opens and holds the last good data
(or the killed run's, whole, when it had published), the next run succeeds, and what dead runs
leave behind stays bounded."""

from __future__ import annotations

import random
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.adversarial.processes import (
    debris_bytes,
    fingerprint,
    run_cli,
    session_processes,
    spawn_cli,
)

DEBRIS_BOUND = 64 << 20  # after the next run: builds swept, only young partial downloads left


@dataclass
class KillsResult:
    kills: int = 0
    by_signal: dict[str, int] = field(default_factory=dict)
    readable_last_good: int = 0
    next_run_ok: int = 0
    debris_bounded: int = 0
    processes_left: int = 0
    max_debris_bytes: int = 0
    killed_after_publish: int = 0
    attempts_finished: int = 0  # runs that ended before their kill came
    problems: list[str] = field(default_factory=list)

    @property
    def survived(self) -> int:
        return min(self.readable_last_good, self.next_run_ok, self.debris_bounded)


def _complete_run(workdir: Path) -> tuple[bool, float, str]:
    clock = time.monotonic()
    done = run_cli("run", "--replay", cwd=workdir)
    ok = done.returncode == 0 and "published" in done.stdout and "Traceback" not in done.stderr
    return ok, time.monotonic() - clock, done.stderr[-500:]


def _same_data(after: dict, before: dict) -> tuple[bool, bool]:
    """(last good, the killed run had published): tables unchanged; runs the same, or one more
    when the kill came after the publish."""
    if after["tables"] != before["tables"]:
        return False, False
    if after["runs"] == before["runs"]:
        return True, False
    return after["runs"][:-1] == before["runs"], True


def _kill_once(workdir: Path, rng: random.Random, run_seconds: float, number: int,
               result: KillsResult) -> float:
    """One kill and the run after it; returns how long that run took (where the next kill
    may land: a warm run, its bodies 304s, is much shorter than the first)."""
    data = workdir / "data"
    db = data / "kmu.duckdb"
    before = fingerprint(db)
    if number % 4 == 3:  # every fourth run downloads again (unchanged bodies are 304s)
        shutil.rmtree(data / "raw", ignore_errors=True)
    sig = rng.choice([signal.SIGKILL, signal.SIGTERM])
    delay = rng.uniform(0.2, run_seconds)
    process = spawn_cli("run", "--replay", cwd=workdir)
    try:
        process.communicate(timeout=delay)
        result.attempts_finished += 1  # the run ended before its kill: none counted
        return min(run_seconds, delay)
    except Exception:  # noqa: BLE001 (TimeoutExpired: still running, kill it now)
        process.send_signal(sig)
        process.communicate(timeout=60)
    result.kills += 1
    result.by_signal[sig.name] = result.by_signal.get(sig.name, 0) + 1
    time.sleep(0.5)  # let a dying process's children notice
    left = session_processes(process.pid)
    result.processes_left += len(left)
    try:
        last_good, published = _same_data(fingerprint(db), before)
    except Exception as exc:  # noqa: BLE001 (an unreadable warehouse is what is counted)
        last_good, published = False, False
        result.problems.append(f"kill {number} ({sig.name} at {delay:.1f}s): {exc}")
    result.readable_last_good += last_good
    result.killed_after_publish += published
    ok, next_seconds, err = _complete_run(workdir)
    result.next_run_ok += ok
    if not ok:
        result.problems.append(f"kill {number}: next run failed: {err}")
    debris = debris_bytes(data)
    builds = list((data / ".build").glob("*.duckdb")) if (data / ".build").exists() else []
    result.max_debris_bytes = max(result.max_debris_bytes, debris)
    result.debris_bounded += debris < DEBRIS_BOUND and not builds
    if not last_good:
        result.problems.append(f"kill {number} ({sig.name} at {delay:.1f}s): not last good")
    return next_seconds


def run_kills(workdir: Path, kills: int, budget_seconds: float, seed: int = 18,
              progress=print) -> KillsResult:
    """Up to `kills` kills, stopping when the budget is spent (the count run is reported)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ok, run_seconds, err = _complete_run(workdir)
    if not ok:
        raise RuntimeError(f"the first run of the kill series failed: {err}")
    rng = random.Random(seed)
    result = KillsResult()
    started = time.monotonic()
    for number in range(kills):
        if time.monotonic() - started > budget_seconds:
            break
        run_seconds = _kill_once(workdir, rng, run_seconds, number, result)
        progress(f"  kill {number + 1}: {result.readable_last_good}/{result.kills} last good, "
                 f"{result.next_run_ok} next runs ok, {result.processes_left} processes left")
    return result
