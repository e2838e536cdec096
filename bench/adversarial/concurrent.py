"""(d) Concurrent refreshes: pairs and triples of `kmu-pipeline run --replay` started together on
one data directory. Each run either publishes or says that another run published newer data;
meta.runs keeps every run that published (an older build written over a newer publish would
drop the newer run from it), and no run ends in a traceback."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.adversarial.processes import fingerprint, run_cli, spawn_cli

REFUSED = "another run published newer data"


@dataclass
class ConcurrentResult:
    groups: int = 0
    runs: int = 0
    published: int = 0
    refused_cleanly: int = 0
    other_failures: int = 0
    tracebacks: int = 0
    runs_kept: int = 0  # published runs found in meta.runs afterwards
    problems: list[str] = field(default_factory=list)


def _group(workdir: Path, size: int, result: ConcurrentResult) -> None:
    db = workdir / "data" / "kmu.duckdb"
    before = fingerprint(db)["runs"]
    processes = []
    for _ in range(size):
        processes.append(spawn_cli("run", "--replay", cwd=workdir))
        time.sleep(0.3)  # staggered a little, as two schedulers firing together are
    outputs = [process.communicate(timeout=900) for process in processes]
    published = 0
    for process, (out, err) in zip(processes, outputs, strict=True):
        result.runs += 1
        result.tracebacks += "Traceback" in err or "Traceback" in out
        if process.returncode == 0 and out.startswith("published"):
            published += 1
        elif REFUSED in err or REFUSED in out:
            result.refused_cleanly += 1
        else:
            result.other_failures += 1
            result.problems.append(f"rc {process.returncode}: {(err or out)[-400:]}")
    after = fingerprint(db)["runs"]
    result.published += published
    kept = len(after) - len(before) if after[: len(before)] == before else 0
    result.runs_kept += kept
    if kept != published:
        result.problems.append(f"{published} runs published, meta.runs grew by {kept}")
    result.groups += 1


def run_concurrent(workdir: Path, pairs: int, triples: int, progress=print) -> ConcurrentResult:
    workdir.mkdir(parents=True, exist_ok=True)
    first = run_cli("run", "--replay", cwd=workdir)
    if first.returncode != 0:
        raise RuntimeError(f"the first run of the concurrent series failed: {first.stderr}")
    result = ConcurrentResult()
    for size in [2] * pairs + [3] * triples:
        _group(workdir, size, result)
        progress(f"  concurrent group of {size}: {result.published} published, "
                 f"{result.refused_cleanly} refused cleanly, {result.other_failures} other")
    return result
