"""(a, whole runs) A few hostile answers through a whole `kmu-pipeline run` (live mode, every
base URL pointed at the fault server, fake GENESIS credentials): every dataset, every model and
the charts, in a separate process. The run must publish the other datasets and its charts, name
the failed one on stderr, keep its last good rows, print no traceback and land no secret."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bench.adversarial.cases import Case
from bench.adversarial.hostile import PASSWORD, USER, HostileRun, table_of
from bench.adversarial.processes import fingerprint, run_cli
from kmu_pipeline.catalogue import load_catalogue
from tests.reliability.publishing import CHART_FILE, chart_source
from tests.reliability.secrets_scan import find_secrets

# Eurostat and DESI cases: the fault server matches paths, and every GENESIS table shares
# /genesis/data/tablefile, so a GENESIS case would hit all three tables (per dataset in hostile)
CASES = ("flag-mathtext-dollars", "xxe-after-70k-prolog", "gzip-bomb-1gib", "header-only-200",
         "redirect-off-origin-308", "desi-html", "shortened-third")


@dataclass
class WholeRunResult:
    runs: int = 0
    held: int = 0
    problems: list[str] = field(default_factory=list)


def _env(harness: HostileRun) -> dict[str, str]:
    sources = load_catalogue().sources
    urls = harness.server.base_urls(sources)
    return {**{sources[name].base_url_env: url for name, url in urls.items()},
            "KMU_GENESIS_USERNAME": USER, "KMU_GENESIS_PASSWORD": PASSWORD,
            "KMU_GENESIS_TOKEN": "", "PYTHONWARNINGS": "ignore"}


def _statuses(db: Path) -> dict[str, tuple[str, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {d: (s, r) for d, s, r in con.execute(
            "select dataset, status, rows from meta.dataset_status").fetchall()}
    finally:
        con.close()


def _judge_attacked(case: Case, statuses: dict, rows_kept: bool, done) -> list[str]:
    table = table_of(case.target)
    status = statuses.get(table, ("missing", 0))[0]
    if case.expect == "accepted":
        ok = status == "ok" and done.returncode == 0
        return [] if ok else [f"accepted answer not loaded: {status}, rc {done.returncode}"]
    wrong = [] if status == "stale" and rows_kept else [f"attacked dataset {status}, rows changed"]
    if f"FAILED {table}: dataset {case.target}, request " not in done.stderr:
        wrong.append("stderr does not name the dataset and request")
    return wrong


def _judge(case: Case, workdir: Path, before: dict, done, harness: HostileRun) -> list[str]:
    db = workdir / "data" / "kmu.duckdb"
    table = table_of(case.target)
    after = fingerprint(db)
    statuses = _statuses(db)
    wrong = []
    if len(after["runs"]) != len(before["runs"]) + 1 or "published" not in done.stdout:
        wrong.append("did not publish")
    others = {d: s for d, (s, _) in statuses.items() if d != table and s != "ok"}
    if others:
        wrong.append(f"other datasets not ok: {others}")
    wrong += _judge_attacked(case, statuses, after["tables"][table] == before["tables"][table],
                             done)
    if "Traceback" in done.stdout + done.stderr:
        wrong.append("traceback")
    if after["runs"][-1] not in chart_source(workdir / "data"):  # the charts of this run
        wrong.append(f"chart {CHART_FILE} is not this run's")
    if find_secrets([PASSWORD], users=[USER], files=[workdir], logs=done.stdout + done.stderr,
                    warehouses=[db]):
        wrong.append("secret found")
    if harness.elsewhere.log:
        wrong.append("another origin was asked")
    return wrong


def run_whole(scratch: Path, progress=print) -> WholeRunResult:
    result = WholeRunResult()
    with HostileRun(scratch) as harness:
        cases = {case.name: case for case in harness.cases()}
        baseline = scratch / "whole-baseline"
        baseline.mkdir(parents=True)
        first = run_cli("run", cwd=baseline, env=_env(harness))
        if first.returncode != 0:
            raise RuntimeError(f"the clean whole run failed: {first.stderr[-2000:]}")
        for number, name in enumerate(CASES):
            case = cases[name]
            workdir = scratch / f"whole-{name}"
            shutil.copytree(baseline, workdir)
            before = fingerprint(workdir / "data" / "kmu.duckdb")
            harness.arm(case, number)
            done = run_cli("run", cwd=workdir, env=_env(harness))
            wrong = _judge(case, workdir, before, done, harness)
            result.runs += 1
            result.held += not wrong
            result.problems += [f"{name}: {w}" for w in wrong]
            progress(f"  whole run {name}: {'held' if not wrong else '; '.join(wrong)}")
            shutil.rmtree(workdir)
    return result
