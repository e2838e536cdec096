"""What this process may use of the machine."""

from __future__ import annotations

import os

import duckdb


def usable_cpus() -> int:
    """The CPUs this process may run on: fewer than the machine's under taskset or a cpuset."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def fit_threads(con: duckdb.DuckDBPyConnection) -> None:
    """At most a DuckDB thread per CPU this process may use. DuckDB's own default is a thread
    per CPU of the machine, or fewer under a container's CPU quota (it reads the cgroup's
    cpu.max), but it ignores the CPU affinity: pinned to one CPU, its second thread only takes
    turns with the first (500k rows: read_csv 0.37 s with two threads, 0.30 s with one; the
    SDMX-ML ingest ~2% slower). So the default is capped, never raised above DuckDB's."""
    (threads,), = con.execute("select current_setting('threads')").fetchall()
    if (cpus := usable_cpus()) < threads:
        con.execute("set threads = $1", [cpus])
