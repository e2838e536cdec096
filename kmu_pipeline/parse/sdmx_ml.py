"""SDMX-ML 2.1 data (structure-specific or generic) -> the warehouse, in one DuckDB statement.

sdmx1's object model parses ~10k observations/s. Here structure-specific data (what Eurostat
serves) streams through expat with one attribute dict per <Obs>, generic data and footers
through lxml iterparse with cleared elements, both in flat memory, in one process and one
parsing thread; the native columns go to DuckDB as one Arrow stream, and the same statement as
for SDMX-CSV maps the codes and writes them (sdmx_harmonise.insert_harmonised).
The XML is untrusted: a DOCTYPE (the vehicle of XXE and entity-expansion bombs) is refused
outright, and the parser never resolves entities or touches the network. An empty message
whose footer carries code 413 (Eurostat's "response written to a file" answer) raises
TooLargeError with the file URL for the source to follow.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

import duckdb
import numpy as np
import pyarrow as pa
from lxml import etree

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.chunk_insert import BATCH_ROWS, prefetched
from kmu_pipeline.errors import MalformedPayloadError, TooLargeError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_harmonise import insert_harmonised

# One dict per <Obs> until the chunk is taken: flat memory, and DuckDB fills whole row groups
CHUNK_ROWS = BATCH_ROWS
READ_BYTES = 1 << 16
_OBS_COLUMNS = ("TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS")
_OBS_STRUCT = pa.struct([(name, pa.large_string()) for name in _OBS_COLUMNS])
_GENERIC = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic}"
_FOOTER = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message/footer}"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _PrologEnd(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """The root element started: no DOCTYPE can follow."""


def refuse_doctype(path: Path, dataset: Dataset, landed: Landed) -> None:
    """Refuse a DOCTYPE or ENTITY declaration anywhere in the prolog (before the root element),
    however long the comments or whitespace in front of it; expat reads only that far."""
    def refuse(*_: object) -> None:
        raise MalformedPayloadError("XML with a DOCTYPE/ENTITY declaration refused (XXE guard)",
                                    dataset=dataset.name, url=landed.url)

    def stop(*_: object) -> None:
        raise _PrologEnd

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = stop
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 16):
                parser.Parse(block, False)
            parser.Parse(b"", True)
    except (_PrologEnd, expat.ExpatError):
        return  # the root started, or not XML at all: the real parser reports what is wrong


FOOTER_PROBE_BYTES = 1 << 16  # a footer-only message is a few hundred bytes
_URL = re.compile(r"https?://\S+")


def footer_file_url(path: Path, dataset: Dataset, landed: Landed) -> str | None:
    """The file URL of a message whose footer says 413: Eurostat writes a large answer to a
    file and sends only that URL ("Due to the large query the response will be written to a
    file which will be located under URL: ..."). None for anything else."""
    if path.stat().st_size > FOOTER_PROBE_BYTES:
        return None
    with open(path, "rb") as fh:
        head = fh.read(FOOTER_PROBE_BYTES)
    if not head.lstrip().startswith(b"<") or b"413" not in head:
        return None
    refuse_doctype(path, dataset, landed)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(head, parser)
    except etree.XMLSyntaxError:
        return None  # not a footer; the data parser reports what is wrong with it
    for message in root.iter(f"{_FOOTER}Message"):
        if message.get("code") == "413":
            texts = [(t.text or "").strip() for t in message]
            urls = [u for text in texts for u in _URL.findall(text)]
            if urls:
                return urls[0]
    return None


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


class _UseLxml(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """Not plain structure-specific data: hand the message to the lxml reader."""


class _StructureSpecific:
    """expat callbacks for structure-specific data: one attribute dict per <Obs>, series keys
    kept once with the offset of their first observation (no tree, no per-row merging)."""

    def __init__(self, path: Path, dataset: Dataset, landed: Landed) -> None:
        self.obs: list[dict[str, str]] = []
        self.series: list[dict[str, str]] = []
        self.starts: list[int] = []
        self.seen_series = False
        # qualified names as written (m:Footer): no namespace work for every element
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start  # (native_tables refused a DOCTYPE)
        self.path, self.dataset, self.landed = path, dataset, landed

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "Obs":
            self.obs.append(attrs)
        elif name == "Series":
            self.series.append(attrs)
            self.starts.append(len(self.obs))
            self.seen_series = True
        elif name.rpartition(":")[2] in ("GenericData", "Footer") and not self.seen_series:
            raise _UseLxml  # (a footer after the data only carries warnings)

    def feed(self, block: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(block, final)
        except expat.ExpatError as exc:
            raise MalformedPayloadError(f"malformed SDMX-ML: {exc}", dataset=self.dataset.name,
                                        url=self.landed.url) from exc

    def take(self, dimensions: list[str], rows: int | None = None) -> pa.Table:
        """The first `rows` observations (default: all so far) as native columns; the rest,
        and the series open at the cut, carry on."""
        obs, series, starts = self.obs, self.series, self.starts
        n = len(obs) if rows is None else rows
        covering = bisect.bisect_left(starts, n)  # the series that start before the cut
        counts = np.diff(np.asarray([*starts[:covering], n], dtype=np.int64))
        index = np.repeat(np.arange(covering), counts)
        first = min(starts[0], n) if starts else n  # <Obs> outside any <Series>: no key
        index = np.concatenate([np.full(first, -1), index]) if first else index
        keys = pa.array(index, mask=index < 0)
        columns = {dim: pa.array([s.get(dim) for s in series[:covering]],
                                 pa.large_string()).take(keys) for dim in dimensions}
        # pyarrow reads the dicts in C: a third less time than a list per column
        observed = pa.array(obs[:n], _OBS_STRUCT).flatten()
        columns.update(zip(_OBS_COLUMNS, observed, strict=True))
        self.obs = obs[n:]
        open_series = series[covering - 1:covering]
        self.series = open_series + series[covering:]
        self.starts = [0] * len(open_series) + [start - n for start in starts[covering:]]
        return pa.table(columns)


def file_blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes, READ_BYTES at a time."""
    with open(path, "rb") as fh:
        while block := fh.read(READ_BYTES):
            yield block


def native_tables(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                  chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Native columns (dimensions, TIME_PERIOD, OBS_VALUE, OBS_FLAG, CONF_STATUS), chunk_rows
    a table (the last one fewer).

    Structure-specific data (what Eurostat serves) streams through expat, 3x lxml iterparse
    building per-row dicts; generic data and 413 footers (which come before any <Obs>) go to
    iter_native_rows.
    """
    refuse_doctype(path, dataset, landed)
    reader = _StructureSpecific(path, dataset, landed)
    emitted = False
    try:
        for block in file_blocks(path):
            reader.feed(block)
            while len(reader.obs) >= chunk_rows:  # whole chunks: DuckDB fills whole row groups
                emitted = True
                yield reader.take(dimensions, chunk_rows)
        reader.feed(b"", final=True)
    except _UseLxml:
        yield from _lxml_tables(path, dataset, landed, dimensions, chunk_rows)
        return
    if reader.obs or not emitted:
        yield reader.take(dimensions)


def _lxml_tables(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                 chunk_rows: int) -> Iterator[pa.Table]:
    columns = [*dimensions, *_OBS_COLUMNS]
    buffer: list[dict[str, str]] = []
    for row in iter_native_rows(path, dataset, landed):
        buffer.append(row)
        if len(buffer) >= chunk_rows:
            yield _rows_table(buffer, columns)
            buffer = []
    yield _rows_table(buffer, columns)


def _rows_table(rows: list[dict[str, str]], columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.large_string()) for c in columns})


def insert_landed(con: duckdb.DuckDBPyConnection, target: str, landed: Landed,
                  body_path: Path, dataset: Dataset, dimensions: list[str],
                  chunk_rows: int = CHUNK_ROWS) -> int:
    """Insert an SDMX-ML data message's observations into `target`; return the rows inserted.

    expat parses in a thread of its own while DuckDB harmonises and writes the chunk before
    (DuckDB releases the GIL). A parse failure (malformed XML, a DOCTYPE, a 413 footer) ends
    the stream, and is raised here in place of the error DuckDB's scan reports for it.
    """
    columns = [*dimensions, *_OBS_COLUMNS]
    schema = pa.schema([(name, pa.large_string()) for name in columns])
    failures: list[BaseException] = []

    def open_native(c: duckdb.DuckDBPyConnection) -> None:
        tables = native_tables(body_path, dataset, landed, dimensions, chunk_rows)
        batches = (batch for table in prefetched(tables, failures)
                   for batch in table.select(columns).to_batches())
        c.register("native", pa.RecordBatchReader.from_batches(schema, batches))

    try:
        rows = insert_harmonised(con, target, landed, dataset, columns, open_native)
    except duckdb.Error:
        if failures:
            raise failures[0] from None
        raise
    if failures:
        raise failures[0]
    return rows
