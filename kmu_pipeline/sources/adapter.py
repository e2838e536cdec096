"""What a source is to the rest of the pipeline: one adapter object, registered in registry.py.

An adapter turns a catalogue entry into the agency's requests. `check` reads the agency's own
structure for the entry and raises CatalogueMismatchError when the entry asks for codes the
agency does not have, else says what it checked against; `fetch` calls it first, then lands
the data and returns data bodies only (queued answers, footers, job statuses and metadata stay
inside the adapter); `load` inserts one landed body's rows into a table through parse/.

`upstream_stamp` is the agency's own word on when the data last changed (Eurostat's UPDATE_DATA
annotation, GENESIS's Updated), read from the same answer `check` reads (asked once: the
client's fetch_once), so a refresh whose stamp equals the one already loaded asks for no data.
'' means the source states none: its data is asked for conditionally and compared by bytes.
`missing_credentials` says why a source cannot be asked at `base_url` (None when it can).
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
Stamp = Callable[[Dataset, Source, HttpClient, str], str]


def states_no_stamp(dataset: Dataset, source: Source, client: HttpClient, base_url: str) -> str:
    return ""


def needs_no_credentials(base_url: str) -> str | None:
    return None


@dataclass(frozen=True)
class SourceAdapter:
    name: str
    check: Check
    fetch: Fetch
    load: Load
    upstream_stamp: Stamp = states_no_stamp
    missing_credentials: Callable[[str], str | None] = needs_no_credentials
