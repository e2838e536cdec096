"""SDMX-ML 2.1 data (structure-specific or generic) -> tidy chunks, streamed with lxml.

sdmx1's object model parses ~10k observations/s; iterparse with cleared elements streams several
hundred thousand per second in flat memory. The XML is untrusted: a DOCTYPE (the vehicle of XXE
and entity-expansion bombs) is refused outright, and the parser never resolves entities or
touches the network. An empty message whose footer carries code 413 (Eurostat's "response
written to a file" answer) raises TooLargeError with the file URL for the source to follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
from lxml import etree

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import MalformedPayloadError, TooLargeError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_harmonise import check_chunk, harmonise_sql, register_maps

CHUNK_ROWS = 100_000
_GENERIC = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic}"
_FOOTER = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message/footer}"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def refuse_doctype(path: Path, dataset: Dataset, landed: Landed) -> None:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise MalformedPayloadError("XML with a DOCTYPE/ENTITY declaration refused (XXE guard)",
                                    dataset=dataset.name, url=landed.url)


def _generic_series(elem) -> dict[str, str]:
    key = {}
    for value in elem.iter(f"{_GENERIC}Value"):
        parent = _local(value.getparent().tag)
        if parent in ("SeriesKey", "Attributes") and value.getparent().getparent() is elem:
            key[value.get("id").lower() if parent == "SeriesKey" else value.get("id")] = value.get(
                "value")
    return key


def _generic_obs(elem) -> dict[str, str]:
    obs = {}
    for child in elem:
        name = _local(child.tag)
        if name == "ObsDimension":
            obs["TIME_PERIOD"] = child.get("value")
        elif name == "ObsValue":
            obs["OBS_VALUE"] = child.get("value")
        elif name == "Attributes":
            obs.update({v.get("id"): v.get("value") for v in child})
    return obs


def iter_native_rows(path: Path, dataset: Dataset, landed: Landed) -> Iterator[dict[str, str]]:
    """One dict per observation: series key attributes + observation attributes."""
    refuse_doctype(path, dataset, landed)
    parser = etree.iterparse(str(path), events=("start", "end"), resolve_entities=False,
                             no_network=True, load_dtd=False, huge_tree=False)
    series: dict[str, str] = {}
    try:
        for event, elem in parser:
            name = _local(elem.tag)
            if event == "start":
                if name == "Series" and not elem.tag.startswith(_GENERIC):
                    series = dict(elem.attrib)
                continue
            if name == "Obs":
                obs = _generic_obs(elem) if elem.tag.startswith(_GENERIC) else dict(elem.attrib)
                yield {**series, **obs}
                elem.clear()
            elif name == "SeriesKey" and elem.tag.startswith(_GENERIC):
                series = {v.get("id").lower(): v.get("value") for v in elem}
            elif name == "Series":
                elem.clear()
            elif name == "Message" and elem.tag.startswith(_FOOTER) and elem.get("code") == "413":
                texts = [t.text or "" for t in elem]
                url = next((t.strip() for t in texts if t.strip().startswith("http")), "")
                raise TooLargeError(f"Eurostat wrote the answer to a file: {url}",
                                    dataset=dataset.name, url=landed.url)
    except etree.XMLSyntaxError as exc:
        raise MalformedPayloadError(f"malformed SDMX-ML: {exc}", dataset=dataset.name,
                                    url=landed.url) from exc


def parse_landed(landed: Landed, body_path: Path, dataset: Dataset, dimensions: list[str],
                 chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Stream an SDMX-ML data message as tidy observation chunks."""
    con = duckdb.connect()
    register_maps(con, dataset)
    columns = [*dimensions, "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG"]
    buffer: list[dict[str, str]] = []
    try:
        for row in iter_native_rows(body_path, dataset, landed):
            buffer.append(row)
            if len(buffer) >= chunk_rows:
                yield _harmonise(con, buffer, columns, dataset, landed)
                buffer = []
        if buffer:
            yield _harmonise(con, buffer, columns, dataset, landed)
    finally:
        con.close()


def _harmonise(con: duckdb.DuckDBPyConnection, rows: list[dict[str, str]], columns: list[str],
               dataset: Dataset, landed: Landed) -> pd.DataFrame:
    native = pd.DataFrame.from_records(rows, columns=columns).astype("string")
    con.register("native", native)
    frame = con.execute(harmonise_sql(columns),
                        {"dataset": dataset.name, "request_id": landed.request_id}).fetchdf()
    con.unregister("native")
    return check_chunk(frame, dataset, landed)
