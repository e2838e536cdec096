"""(b) N reader processes (tests/reliability/reader.py: half reconnect per read, half hold a
connection as a notebook does) read the published warehouse read-only in a loop while R
refreshes publish. Each refresh's upstream answers carry its number in one cell of two
datasets, so a read that sees tables from two runs shows two different numbers: a torn read."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from kmu_pipeline.defs.sql import sql_assets
from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.reliability import faults as f
from tests.reliability import reader
from tests.reliability.conftest import refresh
from tests.reliability.faults import FaultServer
from tests.reliability.publishing import published_runs
from tests.replay.conftest import materialize_against


@dataclass
class ReadersResult:
    readers: int
    refreshes: int
    refreshes_published: int
    reads: int
    errors: int
    torn: int
    runs_seen: int
    error_examples: list[str]


def _mark(server: FaultServer, generation: int) -> None:
    for match, old in (("/data/isoc_cicce_use/", "DE,2020,30.62,"),
                       ("/data/isoc_eb_bd/", "DE,2020,16.25,")):
        server.add(match, f.transformed(partial(_replace, old.encode(),
                                                f"DE,2020,{generation},".encode())))


def _replace(old: bytes, new: bytes, body: bytes) -> bytes:
    return body.replace(old, new)


def _torn(read: dict, run_generation: dict[str, int]) -> bool:
    """Tables of two runs: the four values differ, or the newest run id in meta.runs is not
    the run that published this generation."""
    cloud_raw, big_data_raw, cloud_mart, big_data_mart, _runs = read["row"]
    if not cloud_raw == big_data_raw == cloud_mart == big_data_mart:
        return True
    expected = run_generation.get(read["latest"])
    return expected is not None and expected != cloud_raw


def run_readers(workdir: Path, readers: int = 8, refreshes: int = 10) -> ReadersResult:
    db = workdir / "kmu.duckdb"
    stop = workdir / "stop"
    run_generation: dict[str, int] = {}
    published = 0
    with FaultServer(DEMO_SNAPSHOT) as server:
        _mark(server, 0)
        if not materialize_against(server, workdir).success:
            raise RuntimeError("the first full run of the readers' warehouse failed")
        run_generation[published_runs(db)[-1]] = 0
        procs = [subprocess.Popen([sys.executable, reader.__file__, str(db), str(stop),
                                   "hold" if n % 2 else "reconnect"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in range(readers)]
        try:
            for generation in range(1, refreshes + 1):
                _mark(server, generation)
                result = refresh(server, workdir, extra_assets=sql_assets())
                if result.success and published_runs(db)[-1] == result.run_id:
                    published += 1
                    run_generation[result.run_id] = generation
        finally:
            stop.touch()
            outputs = [proc.communicate(timeout=120) for proc in procs]
    lines = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    errors = [line["error"] for line in lines if "error" in line]
    errors += [err.strip() for (_, err), proc in zip(outputs, procs, strict=True)
               if proc.returncode != 0]
    reads = [line for line in lines if "row" in line]
    return ReadersResult(readers=readers, refreshes=refreshes, refreshes_published=published,
                         reads=len(reads), errors=len(errors),
                         torn=sum(_torn(read, run_generation) for read in reads),
                         runs_seen=len({read["latest"] for read in reads}),
                         error_examples=errors[:3])
