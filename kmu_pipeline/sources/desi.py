"""The Commission's Digital Scoreboard (DESI download): the source adapter.

The download is one CSV file at the entry's `code` path. The Scoreboard has no structure service
to check an entry against before the download, so `check_dataset` asks nothing: the file's
header is checked on arrival (parse/desi_csv.py) and its rows against schemas.DesiRows.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from kmu_pipeline.catalogue import Dataset, Source
from kmu_pipeline.chunk_insert import insert_frame
from kmu_pipeline.errors import MalformedPayloadError
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.parse.desi_csv import parse_desi
from kmu_pipeline.parse.formats import BodyKind, preview, sniff
from kmu_pipeline.sources.adapter import SourceAdapter
from kmu_pipeline.sources.http import HttpClient

NAME = "desi"


def download_request(dataset: Dataset) -> Request:
    return Request(source=NAME, dataset=dataset.name, path=dataset.code, accept="text/csv")


def check_dataset(dataset: Dataset, source: Source, client: HttpClient, base_url: str) -> str:
    """Nothing to ask before the download (no structure service); see the module docstring."""
    return "nothing before the download (no structure service): its header on arrival"


def fetch_dataset(dataset: Dataset, source: Source, client: HttpClient,
                  base_url: str) -> list[Landed]:
    landed = client.fetch(download_request(dataset), base_url)
    body = landed.body_path(client.landing.root)
    kind = sniff(body)
    # a plain CSV sniffs as UNKNOWN (or SDMX_CSV); its header is checked when it is parsed
    if kind not in (BodyKind.UNKNOWN, BodyKind.SDMX_CSV):
        raise MalformedPayloadError(f"expected the DESI CSV, got {kind.value} (body starts "
                                    f"{preview(body)!r}) [answer kept at {body}]",
                                    dataset=dataset.name, url=landed.url)
    return [landed]


def load_landed(con: duckdb.DuckDBPyConnection, target: str, dataset: Dataset, source: Source,
                landed: Landed, body: Path) -> int:
    return insert_frame(con, target, parse_desi(landed, body))


ADAPTER = SourceAdapter(NAME, check=check_dataset, fetch=fetch_dataset, load=load_landed)
