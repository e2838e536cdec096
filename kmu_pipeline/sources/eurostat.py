"""Eurostat SDMX 2.1 dissemination API: data as SDMX-CSV, codelists as SDMX-ML.

sdmx1 builds the query URLs (its ESTAT source knows the resource paths and key syntax) and parses
the structure messages; the data itself comes as SDMX-CSV, which DuckDB streams at ~1M
observations/s, where sdmx1's object model manages ~10k/s (see bench/). An answer too large to
send at once arrives as an empty SDMX-ML message whose footer (code 413) names a file URL;
large_answers.py polls it, with a bound, and unzips the data.
"""

from __future__ import annotations

import copy
from urllib.parse import parse_qsl, urlsplit

import sdmx

from kmu_pipeline.catalogue import Dataset, Source
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.parse.sdmx_ml import footer_file_url
from kmu_pipeline.sources.async_answers import async_key, follow_async
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.sources.large_answers import follow_footer

SDMX_CSV = "application/vnd.sdmx.data+csv;version=1.0.0"
STRUCTURE_DATASET = "codelists"


def _client(base_url: str) -> sdmx.Client:
    """An sdmx1 ESTAT client pointed at `base_url` (live or replay); the registry is untouched."""
    client = sdmx.Client("ESTAT")
    source = copy.copy(client.source)
    source.url = base_url.rstrip("/")
    client.source = source
    return client


def _relative(prepared_url: str, base_url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(prepared_url)
    path = parts.path[len(urlsplit(base_url).path.rstrip("/")):].lstrip("/")
    return path, tuple(parse_qsl(parts.query, keep_blank_values=True))


def series_key(dataset: Dataset, dimensions: list[str]) -> str:
    """Dot-separated key: size_emp/indic_is/unit from the catalogue maps, the rest from filters."""
    mapped = {
        "size_emp": list(dataset.size_classes),
        "indic_is": list(dataset.indicators),
        "unit": list(dataset.units),
    }
    parts = []
    for dim in dimensions:
        codes = mapped.get(dim) or ([dataset.filters[dim]] if dim in dataset.filters else [])
        parts.append("+".join(codes))
    return ".".join(parts)


def data_request(dataset: Dataset, source: Source) -> Request:
    """The SDMX-CSV data query of one catalogue entry."""
    base = source.base_url
    params = {"format": "SDMX-CSV"}
    if dataset.start_period:
        params["startPeriod"] = str(dataset.start_period)
    if dataset.end_period:
        params["endPeriod"] = str(dataset.end_period)
    key = series_key(dataset, list(source.options["dimensions"]))
    # sdmx1 validates its own params; format is Eurostat-specific, so it is appended here.
    sdmx_params = {k: v for k, v in params.items() if k != "format"}
    prepared = _client(base).get("data", dataset.code, key=key, params=sdmx_params, dry_run=True)
    path, query = _relative(prepared.url, base)
    return Request(source="eurostat", dataset=dataset.name, path=path,
                   query=(*query, ("format", "SDMX-CSV")), accept=SDMX_CSV)


def codelist_request(codelist_id: str, source: Source) -> Request:
    prepared = _client(source.base_url).get("codelist", codelist_id, dry_run=True)
    path, query = _relative(prepared.url, source.base_url)
    return Request(source="eurostat", dataset=STRUCTURE_DATASET, path=path, query=query,
                   accept="application/vnd.sdmx.structure+xml;version=2.1")


def fetch_dataset(dataset: Dataset, client: HttpClient, source: Source,
                  base_url: str) -> list[Landed]:
    """Download (or confirm unchanged) the data of one Eurostat dataset; a "written to a file"
    answer (413 footer) is followed to the file (large_answers.py), a queued one to the
    asynchronous API's data endpoint (async_answers.py)."""
    request = data_request(dataset, source)
    landed = client.fetch(request, base_url)
    key = async_key(landed.body_path(client.landing.root))
    if key is not None:  # queued by Eurostat's asynchronous API (async_answers.py)
        return [follow_async(dataset, client, base_url, landed, key, accept=request.accept)]
    file_url = footer_file_url(landed.body_path(client.landing.root), dataset, landed)
    if file_url is None:
        return [landed]
    return [follow_footer(dataset, client, base_url, landed, file_url)]


def fetch_codelists(client: HttpClient, source: Source, base_url: str) -> list[Landed]:
    return [client.fetch(codelist_request(cl, source), base_url)
            for cl in source.options.get("codelists", [])]
