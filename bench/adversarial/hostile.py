"""(a) Hostile upstream answers: each case is served by the fault server for ONE dataset while a
neighbour dataset gets a fresh, good answer, in one refresh with its publish (materialize of
both raw assets and the publish step, as tests/reliability does). Each case is judged on five
counts: the run published and the neighbour's new value is in it; the attacked dataset did
what the case expects (refused: last good rows kept, stale; accepted: loaded); a refusal's
error names the dataset and the request; no credential anywhere; nothing escaped the data
directory, reached another origin or stayed on disk in bulk."""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bench.adversarial.bodies import GENESIS_METADATA, JSON
from bench.adversarial.cases import ESCAPE, METADATA, Case, all_cases
from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.reliability import faults as f
from tests.reliability.conftest import refresh
from tests.reliability.faults import FaultHandler, FaultServer
from tests.reliability.publishing import published_runs
from tests.reliability.secrets_scan import find_secrets

USER, PASSWORD = "adv-user-5c1d", 'Adv"3rs\\ary-Pw!'  # JSON-escaping changes the password
CREDENTIALS = {"KMU_GENESIS_USERNAME": USER, "KMU_GENESIS_PASSWORD": PASSWORD}
NEIGHBOUR = "isoc_eb_bd"
NEIGHBOUR_CELL = "DE,2020,16.25,"
GENESIS_UPDATED = b"15.04.2021 10:00:00h"  # the demo's 52911-0003 metadata stamp
NAMED = re.compile(r"request (?:GET |POST )?http://")
DEBRIS_BOUND = 32 << 20  # bytes a case may add to the data directory beyond what was sent
CHECKS = ("published", "outcome", "named", "no_secret", "contained")


@dataclass
class Verdict:
    case: str
    expect: str
    status: str = ""
    checks: dict[str, bool] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0

    @property
    def held(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


def table_of(dataset: str) -> str:
    return load_catalogue().dataset(dataset).table


def _rows(db: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted(map(repr, con.execute(f"select * from {table}").fetchall()))
    finally:
        con.close()


def _one(db: Path, sql: str, params=()) -> tuple | None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()
    finally:
        con.close()


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


class CountingHandler(FaultHandler):
    def raw(self, status: int, body: bytes, *args, **kwargs) -> None:
        with self.server_state.lock:
            self.server_state.sent += len(body)
        super().raw(status, body, *args, **kwargs)


class CountingFaultServer(FaultServer):
    """The fault server, counting the body bytes its faults sent: a refused answer may stay on
    disk as received (raw responses are kept), never inflated beyond it."""

    sent = 0

    def _handler(self) -> type[FaultHandler]:
        return type("BoundCountingHandler", (CountingHandler,),
                    {"index": self.index, "server_state": self})


class HostileRun:
    """The servers, one published baseline per attacked dataset, and the cases to run."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.server = CountingFaultServer(DEMO_SNAPSHOT)
        self.elsewhere = CountingFaultServer(DEMO_SNAPSHOT)  # another origin: must never be asked
        self.baselines: dict[str, Path] = {}

    def __enter__(self) -> HostileRun:
        self.saved_env = {name: os.environ.get(name) for name in CREDENTIALS}
        os.environ.update(CREDENTIALS)
        self.server.__enter__()
        self.elsewhere.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)
        self.elsewhere.__exit__(*exc)
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def elsewhere_url(self) -> str:
        return f"{self.elsewhere.url}/genesis/data/tablefile"

    def cases(self) -> list[Case]:
        return all_cases(self.elsewhere_url)

    def _refresh(self, workdir: Path, target: str, **source_kwargs):
        urls = self.server.base_urls(load_catalogue().sources)
        return refresh(self.server, workdir, datasets=(NEIGHBOUR, target), base_urls=urls,
                       **source_kwargs)

    def _reset(self) -> None:
        for server in (self.server, self.elsewhere):
            with server.lock:
                server.rules.clear()
                server.hits.clear()
                server.log.clear()
                server.sent = 0

    def baseline(self, target: str) -> Path:
        if target not in self.baselines:
            self._reset()
            workdir = self.scratch / f"baseline-{target}"
            result = self._refresh(workdir, target)
            if not result.success:
                raise RuntimeError(f"the clean baseline refresh of {target} failed")
            self.baselines[target] = workdir
        return self.baselines[target]

    def arm(self, case: Case, number: int) -> float:
        """Set the server's rules for `case`; return the neighbour's new value."""
        marker = round(17 + number / 100, 2)
        self._reset()
        self.server.add(f"/data/{NEIGHBOUR}/", f.transformed(
            lambda body: body.replace(NEIGHBOUR_CELL.encode(), f"DE,2020,{marker},".encode())))
        if case.target == "ikt_by_size":  # a new Updated stamp: the table file is asked again
            self.server.add(METADATA, f.body(GENESIS_METADATA.replace(
                GENESIS_UPDATED, b"01.12.2026 10:00:00h"), JSON))
        for match, *faults in case.rules:
            self.server.add(match, *faults)
        return marker

    def run(self, case: Case, number: int) -> Verdict:
        verdict = Verdict(case.name, case.expect)
        base = self.baseline(case.target)
        workdir = self.scratch / case.name
        shutil.copytree(base, workdir)
        db = workdir / "kmu.duckdb"
        table = table_of(case.target)
        before = _rows(db, table)
        marker = self.arm(case, number)
        logs = io.StringIO()
        handler = logging.StreamHandler(logs)
        logging.getLogger().addHandler(handler)
        clock = time.perf_counter()
        try:
            result = self._refresh(workdir, case.target, **case.source_kwargs)
        finally:
            logging.getLogger().removeHandler(handler)
        verdict.seconds = time.perf_counter() - clock
        status, error = _one(db, "select status, coalesce(error, '') from meta.dataset_status "
                                 "where dataset = ?", [table]) or ("missing", "")
        verdict.status, verdict.error = status, error
        neighbour = _one(db, f"select value from {table_of(NEIGHBOUR)} where geo = 'DE' and "
                             "year = 2020 and size_class = '10-49'")
        runs = published_runs(db)
        verdict.checks["published"] = bool(runs) and runs[-1] == result.run_id and \
            neighbour == (marker,)
        refused = status == "stale" and _rows(db, table) == before
        accepted = status == "ok" and (not case.verify or _one(db, case.verify) == (True,))
        verdict.checks["outcome"] = {"refused": refused, "accepted": accepted,
                                     "either": refused or accepted}[case.expect]
        verdict.checks["named"] = not refused or (f"dataset {case.target}" in error
                                                  and bool(NAMED.search(error)))
        verdict.checks["no_secret"] = not find_secrets(
            [PASSWORD], users=[USER], files=[workdir], logs=logs.getvalue(),
            events=result.all_events, warehouses=[db])
        escaped = list(Path(ESCAPE).parent.glob(Path(ESCAPE).name + "*"))
        added = _size(workdir) - _size(base)
        verdict.checks["contained"] = (not escaped and not self.elsewhere.log
                                       and added < DEBRIS_BOUND + self.server.sent)
        shutil.rmtree(workdir)  # keep the scratch disk small; the verdict holds what counted
        return verdict


def run_hostile(scratch: Path, only: set[str] | None = None, progress=print) -> list[Verdict]:
    verdicts = []
    with HostileRun(scratch) as harness:
        for number, case in enumerate(harness.cases()):
            if only and case.name not in only:
                continue
            verdict = harness.run(case, number)
            failed = ", ".join(k for k, ok in verdict.checks.items() if not ok)
            progress(f"  hostile {case.name}: {'held' if verdict.held else 'NOT HELD'} "
                     f"({verdict.status}; {failed}) {verdict.seconds:.1f}s")
            verdicts.append(verdict)
    return verdicts
