"""Eurostat SDMX 2.1 dissemination API: the source adapter.

Before any data request, `check_dataset` reads the flow's structure, as Eurostat answers
`dataflow/ESTAT/{flow}/latest?references=descendants&detail=referencepartial`: the dataflow
(with its UPDATE_DATA and OBS_PERIOD_OVERALL_* annotations), its data structure (the key's
dimensions in order) and the codelists cut to the codes the flow has data for (`isPartial`),
or an actual content constraint where the message carries one. Every code the catalogue entry
asks for is checked against it (conformance.py); a mismatch fails the dataset before Eurostat is
asked for data it would refuse. The structure is landed and refreshed conditionally like data.

Data comes as SDMX-CSV, which DuckDB streams at ~1M observations/s (sdmx1's object model: ~10k/s,
bench/). What Eurostat sends instead of data stays here: a queued request (a SOAP envelope,
async_answers.py) is followed to its data; an answer "written to a file" (an empty SDMX-ML
message with a 413 footer, large_answers.py) to the file. A fault, an HTML page or an empty body
is an error naming the request, never data.
"""

from __future__ import annotations

import copy
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb
import sdmx

from kmu_pipeline.catalogue import Dataset, Source
from kmu_pipeline.chunk_insert import insert_frame
from kmu_pipeline.conformance import Mismatch, find_mismatches, raise_for_mismatches
from kmu_pipeline.errors import MalformedPayloadError, RefusedError
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.parse import sdmx_csv, sdmx_ml
from kmu_pipeline.parse.formats import BodyKind, fault_text, preview, sniff
from kmu_pipeline.parse.sdmx_structure import FlowStructure, cached_flow_structure, parse_codelists
from kmu_pipeline.sources.adapter import SourceAdapter
from kmu_pipeline.sources.async_answers import async_key, follow_async
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.sources.large_answers import follow_footer

NAME = "eurostat"
SDMX_CSV = "application/vnd.sdmx.data+csv;version=1.0.0"
STRUCTURE = "application/vnd.sdmx.structure+xml;version=2.1"
LABELS = "labels"  # a labels entry: its `codelists` are fetched, not a flow
# The dimensions whose codes come from the entry's code maps; the others from its filters.
MAPPED_DIMENSIONS = {"size_emp": "size_classes", "indic_is": "indicators", "unit": "units"}


def _client(base_url: str) -> sdmx.Client:
    """An sdmx1 ESTAT client pointed at `base_url` (live or replay); the registry is untouched."""
    client = sdmx.Client("ESTAT")
    source = copy.copy(client.source)
    source.url = base_url.rstrip("/")
    client.source = source
    return client


def _request(source: Source, dataset: str, resource: str, resource_id: str,
             accept: str, **kwargs) -> Request:
    """A request built by sdmx1 (it knows Eurostat's resource paths and key syntax), relative
    to the base URL so that live and replay share it."""
    prepared = _client(source.base_url).get(resource, resource_id, dry_run=True, **kwargs)
    parts = urlsplit(prepared.url)
    path = parts.path[len(urlsplit(source.base_url).path.rstrip("/")):].lstrip("/")
    return Request(source=NAME, dataset=dataset, path=path,
                   query=tuple(parse_qsl(parts.query, keep_blank_values=True)), accept=accept)


def requested_codes(dataset: Dataset, dimensions: list[str]) -> dict[str, list[str]]:
    """Dimension -> the codes the entry asks for (an absent dimension = all codes)."""
    codes = {}
    for dim in dimensions:
        mapped = MAPPED_DIMENSIONS.get(dim)
        chosen = list(getattr(dataset, mapped)) if mapped else (
            [dataset.filters[dim]] if dim in dataset.filters else [])
        if chosen:
            codes[dim] = chosen
    return codes


def series_key(dataset: Dataset, dimensions: list[str]) -> str:
    """Dot-separated key: size_emp/indic_is/unit from the catalogue maps, the rest from filters."""
    codes = requested_codes(dataset, dimensions)
    return ".".join("+".join(codes.get(dim, [])) for dim in dimensions)


def data_request(dataset: Dataset, source: Source) -> Request:
    """The SDMX-CSV data query of one catalogue entry."""
    params = {}
    if dataset.start_period:
        params["startPeriod"] = str(dataset.start_period)
    if dataset.end_period:
        params["endPeriod"] = str(dataset.end_period)
    key = series_key(dataset, list(source.dimensions))
    request = _request(source, dataset.name, "data", dataset.code, SDMX_CSV, key=key,
                       params=params)
    # sdmx1 validates its own params; format is Eurostat-specific, so it is appended here.
    return Request(source=NAME, dataset=dataset.name, path=request.path,
                   query=(*request.query, ("format", "SDMX-CSV")), accept=SDMX_CSV)


def structure_request(dataset: Dataset, source: Source) -> Request:
    """The flow's dataflow, data structure and partial codelists in one structure message."""
    return _request(source, dataset.name, "dataflow", dataset.code, STRUCTURE,
                    params={"references": "descendants", "detail": "referencepartial"})


def codelist_request(codelist_id: str, source: Source, dataset: str) -> Request:
    return _request(source, dataset, "codelist", codelist_id, STRUCTURE)


def structure_mismatches(dataset: Dataset, source: Source,
                         structure: FlowStructure) -> list[Mismatch]:
    """What the entry asks that the flow does not have: key order, codes, periods."""
    dimensions = list(source.dimensions)
    if list(structure.dimensions) != dimensions:
        return [Mismatch("key", tuple(dimensions), structure.dimensions,
                         note=f"the catalogue builds keys as {dimensions}, the flow's key is "
                              f"{list(structure.dimensions)}")]
    found = find_mismatches(requested_codes(dataset, dimensions), structure.codes)
    oldest, latest = structure.years()
    if dataset.start_period and latest and dataset.start_period > latest:
        found.append(Mismatch("periods", (str(dataset.start_period),), (),
                              note=f"start_period {dataset.start_period} is after the flow's "
                                   f"latest period {latest} (oldest {oldest})"))
    return found


def flow_structure(dataset: Dataset, source: Source, client: HttpClient,
                   base_url: str) -> tuple[FlowStructure, str]:
    """The flow's structure as landed (asked once per refresh) and its request URL."""
    landed = client.fetch_once(structure_request(dataset, source), base_url)

    def read(landed: Landed) -> FlowStructure:
        body = landed.body_path(client.landing.root)
        kind = _kind(body, dataset, landed)
        if kind is not BodyKind.SDMX_STRUCTURE:
            _refuse(kind, body, dataset, landed, "a structure message")
        return cached_flow_structure(landed, body)

    # the release signal and the entry's check read one answer: sdmx1 parses it once a refresh
    return client.read_once(landed, read), landed.url


def upstream_stamp(dataset: Dataset, source: Source, client: HttpClient, base_url: str) -> str:
    """The flow's UPDATE_DATA annotation ('' for a labels entry or a flow stating none)."""
    if dataset.model == LABELS:
        return ""
    return flow_structure(dataset, source, client, base_url)[0].last_update or ""


def check_dataset(dataset: Dataset, source: Source, client: HttpClient, base_url: str) -> str:
    """Check the entry against the flow's structure; raises on any mismatch, else says what it
    checked against. A labels entry asks for codelists, which are structures themselves:
    nothing to check."""
    if dataset.model == LABELS:
        return "nothing to check: codelists are structures themselves"
    structure, url = flow_structure(dataset, source, client, base_url)
    raise_for_mismatches(dataset, structure_mismatches(dataset, source, structure),
                         f"Eurostat's flow {structure.flow}", url)
    return (f"flow {structure.flow}: key, codes and periods (data updated "
            f"{structure.last_update or 'not stated'})")


def fetch_dataset(dataset: Dataset, source: Source, client: HttpClient,
                  base_url: str) -> list[Landed]:
    """Check the entry against the flow's structure, then download (or confirm unchanged) its
    data; only data bodies come out."""
    if dataset.model == LABELS:
        return _fetch_codelists(dataset, source, client, base_url)
    check_dataset(dataset, source, client, base_url)
    request = data_request(dataset, source)
    landed = client.fetch(request, base_url)
    body = landed.body_path(client.landing.root)
    kind = _kind(body, dataset, landed)
    followed = None
    if kind is BodyKind.SOAP_ASYNC and (key := async_key(body)) is not None:
        followed = follow_async(dataset, client, base_url, landed, key, accept=request.accept)
    elif kind is BodyKind.SDMX_DATA and (file_url := sdmx_ml.footer_file_url(
            body, dataset, landed)) is not None:
        followed = follow_footer(dataset, client, base_url, landed, file_url)
    if followed is not None:  # the answer that stood in for the data: judge what it led to
        landed = followed
        body = landed.body_path(client.landing.root)
        kind = _kind(body, dataset, landed)
    if kind not in (BodyKind.SDMX_CSV, BodyKind.SDMX_DATA):
        _refuse(kind, body, dataset, landed, "data")
    return [landed]


def _kind(body: Path, dataset: Dataset, landed: Landed) -> BodyKind:
    """What the body is; XML with a DOCTYPE (the vehicle of XXE and entity bombs) is refused
    before anything reads it, however long its prolog."""
    kind = sniff(body)
    if kind is not BodyKind.HTML:  # <!DOCTYPE html> is a page, refused as such
        sdmx_ml.read_prolog(body, dataset, landed)
    return kind


def _refuse(kind: BodyKind, body: Path, dataset: Dataset, landed: Landed, expected: str) -> None:
    """An answer that is not what was asked for: a fault is a refusal, anything else malformed."""
    if kind in (BodyKind.SOAP_FAULT, BodyKind.SDMX_ERROR):
        code, text = fault_text(body)
        raise RefusedError(f"Eurostat answered HTTP {landed.status} with a fault instead of "
                           f"{expected}: fault {code or '?'}: {text} [answer kept at {body}]",
                           dataset=dataset.name, url=landed.url)
    raise MalformedPayloadError(
        f"expected {expected}, got {kind.value} (content-type {landed.content_type or '?'}; "
        f"body starts {preview(body)!r}) [answer kept at {body}]",
        dataset=dataset.name, url=landed.url)


def load_landed(con: duckdb.DuckDBPyConnection, target: str, dataset: Dataset, source: Source,
                landed: Landed, body: Path) -> int:
    """Insert one landed answer's rows into `target` (observations, or a codelist's labels);
    return the rows inserted."""
    if dataset.model == LABELS:
        return insert_frame(con, target, parse_codelists(landed, body))
    dims = list(source.dimensions)
    parser = sdmx_ml if sniff(body) is BodyKind.SDMX_DATA else sdmx_csv
    return parser.insert_landed(con, target, landed, body, dataset, dims)


def _fetch_codelists(dataset: Dataset, source: Source, client: HttpClient,
                     base_url: str) -> list[Landed]:
    answers = []
    for codelist in dataset.codelists:
        landed = client.fetch(codelist_request(codelist, source, dataset.name), base_url)
        body = landed.body_path(client.landing.root)
        kind = _kind(body, dataset, landed)
        if kind is not BodyKind.SDMX_STRUCTURE:
            _refuse(kind, body, dataset, landed, "a structure message")
        answers.append(landed)
    return answers


ADAPTER = SourceAdapter(NAME, check=check_dataset, fetch=fetch_dataset, load=load_landed,
                        upstream_stamp=upstream_stamp)
