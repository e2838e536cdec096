"""Which of the processes a test started are still running (zombies count as gone)."""

from __future__ import annotations

import contextlib

import psutil


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    running = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                running.append(proc)
    return running
