"""What a source is to the rest of the pipeline: one adapter object, registered in registry.py.

An adapter turns a catalogue entry into the agency's requests. `check` reads the agency's own
structure for the entry and raises CatalogueMismatchError when the entry asks for codes the
agency does not have, else says what it checked against; `fetch` calls it first, then lands
the data and returns data bodies only (queued answers, footers, job statuses and metadata stay
inside the adapter); `load` inserts one landed body's rows into a table through parse/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kmu_pipeline.catalogue import Dataset, Source
from kmu_pipeline.landing import Landed
from kmu_pipeline.sources.http import HttpClient

Check = Callable[[Dataset, Source, HttpClient, str], str]
Fetch = Callable[[Dataset, Source, HttpClient, str], list[Landed]]
Load = Callable[[duckdb.DuckDBPyConnection, str, Dataset, Source, Landed, Path], int]


@dataclass(frozen=True)
class SourceAdapter:
    name: str
    check: Check
    fetch: Fetch
    load: Load
