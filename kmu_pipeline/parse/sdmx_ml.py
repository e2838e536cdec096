"""SDMX-ML 2.1 data (structure-specific or generic) -> the warehouse, in one DuckDB statement.

sdmx1's object model parses ~10k observations/s. Here structure-specific data in UTF-8 (what
Eurostat serves) is checked by libxml2 (well-formed, no DOCTYPE) and read by xml2arrow, a Rust
reader that writes the attributes straight into Arrow columns: the series keys in one pass,
the observations in batches in a second, in flat memory, no Python object per row. Generic
data, other encodings, observations outside series and footers go through lxml iterparse with
cleared elements. The native columns go to DuckDB as one Arrow stream, and the same statement
as for SDMX-CSV maps the codes and writes them (sdmx_harmonise.insert_harmonised).
The XML is untrusted: a DOCTYPE (the vehicle of XXE and entity-expansion bombs) is refused
outright, and no reader resolves entities or touches the network. An empty message whose
footer carries code 413 (Eurostat's "response written to a file" answer) raises TooLargeError
with the file URL for the source to follow.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree
from xml2arrow import Xml2ArrowError, XmlToArrowParser

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.chunk_insert import BATCH_ROWS, prefetched
from kmu_pipeline.errors import MalformedPayloadError, TooLargeError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_harmonise import insert_harmonised

# observations a batch: flat memory, and DuckDB fills whole row groups
CHUNK_ROWS = BATCH_ROWS
CODES = pa.dictionary(pa.int32(), pa.string())  # a key column: codes into its distinct values
_OBS_COLUMNS = ("TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS")
_GENERIC = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic}"
_FOOTER = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message/footer}"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _malformed(exc: Exception, dataset: Dataset, landed: Landed) -> MalformedPayloadError:
    return MalformedPayloadError(f"malformed SDMX-ML: {exc}", dataset=dataset.name,
                                 url=landed.url)


class _PrologEnd(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """The root element started: no DOCTYPE can follow."""


@dataclass(frozen=True)
class Prolog:
    root: str  # the root element's local name; '' if none started (not XML, or empty)
    utf8: bool  # declared (or taken by default) as UTF-8


def read_prolog(path: Path, dataset: Dataset, landed: Landed) -> Prolog:
    """Refuse a DOCTYPE or ENTITY declaration anywhere in the prolog (before the root element),
    however long the comments or whitespace in front of it; expat reads only that far. Return
    the root element's name and whether the document is UTF-8."""
    found = {"root": "", "encoding": None}

    def refuse(*_: object) -> None:
        raise MalformedPayloadError("XML with a DOCTYPE/ENTITY declaration refused (XXE guard)",
                                    dataset=dataset.name, url=landed.url)

    def declared(_version: str, encoding: str | None, _standalone: int) -> None:
        found["encoding"] = encoding

    def stop(name: str, _attrs: object) -> None:
        found["root"] = name.rpartition(":")[2]  # qualified as written: m:StructureSpecificData
        raise _PrologEnd

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.XmlDeclHandler = declared
    parser.StartElementHandler = stop
    with open(path, "rb") as fh:
        first = fh.read(2)
        fh.seek(0)
        try:
            while block := fh.read(1 << 16):
                parser.Parse(block, False)
            parser.Parse(b"", True)
        except (_PrologEnd, expat.ExpatError):
            pass  # the root started, or not XML at all: the real parser reports what is wrong
    utf16 = first in (b"\xff\xfe", b"\xfe\xff")  # a UTF-16 byte order mark, declared or not
    return Prolog(root=found["root"], utf8=not utf16 and (found["encoding"] or "utf-8").lower()
                  in ("utf-8", "utf8"))


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
    read_prolog(path, dataset, landed)
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
    read_prolog(path, dataset, landed)
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
        raise _malformed(exc, dataset, landed) from exc


# xml2arrow matches element names without their prefix (u:DataSet is DataSet)
_DATASET = "/StructureSpecificData/DataSet"
_SERIES = f"{_DATASET}/Series"
# <Obs> tags are counted in the bytes to check that the reader saw every observation; "<!"
# starts the markup (comments, CDATA) in whose text such a tag could appear without being one
# (a well-formed attribute value holds no '<'; a DOCTYPE is refused before)
_OBS_TAG, _HIDING = b"<Obs", b"<!"


def _field(name: str, path: str) -> dict:
    return {"name": name, "xml_path": path, "data_type": "Utf8", "nullable": True}


def _reader(series_fields: list[str], obs_fields: list[str]) -> XmlToArrowParser:
    """An xml2arrow reader of structure-specific data: the series' attributes `series_fields`,
    and a table of every <Obs>' attributes `obs_fields` (if any), each row indexed by its
    data set and series. Both readers share the same boundary tables, so that their indexes
    agree. (Asked for both at once, xml2arrow 0.19 leaves the <Series> attributes null: the
    element is the obs table's own path.)"""
    tables = [{"name": "datasets", "xml_path": "/StructureSpecificData", "levels": ["dataset"],
               "fields": []},
              {"name": "series", "xml_path": _DATASET, "levels": ["dataset", "series"],
               "fields": [_field(a, f"{_SERIES}/@{a}") for a in series_fields]}]
    if obs_fields:
        tables.append({"name": "obs", "xml_path": _SERIES,
                       "levels": ["dataset", "series", "obs"],
                       "fields": [_field(a, f"{_SERIES}/Obs/@{a}") for a in obs_fields]})
    # its configuration is read from a file; JSON is YAML
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as config:
        json.dump({"tables": tables}, config)
        config.flush()
        return XmlToArrowParser(config.name)


class _NoEvents:
    """A parser target without callbacks: libxml2 checks the whole document in C."""

    def close(self) -> None:
        return None


def check_well_formed(path: Path, dataset: Dataset, landed: Landed) -> None:
    """Refuse a body that is not well-formed XML (cut short, junk after the root, a bad byte),
    by XML's rules, which xml2arrow does not all check (it reads a cut document as far as it
    goes)."""
    parser = etree.XMLParser(target=_NoEvents(), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)
    try:
        etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc, dataset, landed) from exc


def count_tags(path: Path) -> dict[bytes, int]:
    """How often <Obs and <! occur in the bytes (a check on the reader, not a parser)."""
    counts, tail = dict.fromkeys((_OBS_TAG, _HIDING), 0), b""
    keep = len(_OBS_TAG) - 1  # a tag cut by a block boundary is counted in the next block
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            data = tail + block
            counts[_OBS_TAG] += data.count(_OBS_TAG)
            # '!' is rare in data (a memchr pass), and "<!" costs a slower search where it is
            if b"!" in data:
                counts[_HIDING] += data.count(_HIDING)
            tail = data[-keep:]
    return counts


def _structure_specific_tables(path: Path, dataset: Dataset, landed: Landed,
                               dimensions: list[str], chunk_rows: int,
                               ) -> Iterator[pa.Table] | None:
    """Native columns of series-level structure-specific data (what Eurostat serves), read by
    xml2arrow: the series keys first, then the observations in streamed batches, each given
    its series' key by index. None, before anything is read, for what this reader does not
    cover (no observation at all or a footer, no series, comments or CDATA): the lxml reader
    takes those."""
    tags = count_tags(path)
    if not tags[_OBS_TAG] or tags[_HIDING]:
        return None
    series = _series_keys(path, dataset, landed, dimensions, chunk_rows)
    if not series.num_rows:  # observations outside any series
        return None
    return _observations(path, dataset, landed, dimensions, chunk_rows, series, tags[_OBS_TAG])


def _series_keys(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                 chunk_rows: int) -> pa.Table:
    """Every series' (data set, series) index, key and observation attributes stated on the
    series (TIME_PERIOD in a cross-sectional message), in document order. Read in batches and
    each column coded against one dictionary that grows with the distinct values: a key's codes
    repeat from series to series (5M observations: 333,000 series, a few hundred codes), and
    encoding every batch apart, then unifying, took five times the table's memory."""
    names = [*dimensions, *_OBS_COLUMNS]
    distinct = {name: pa.array([], pa.string()) for name in names}
    codes: dict[str, list[pa.Array]] = {name: [] for name in names}
    data_sets: list[np.ndarray] = []
    try:
        for table, batch in _reader(names, []).parse_batches(str(path),
                                                             max_rows_per_batch=chunk_rows):
            if table != "series":
                continue
            # a copy: an array xml2arrow hands over keeps its whole batch alive
            data_sets.append(batch.column("<dataset>").to_numpy().copy())
            for name in names:
                column = batch.column(name)
                seen = pc.unique(column.drop_null())
                distinct[name] = pa.concat_arrays([distinct[name], seen.filter(
                    pc.invert(pc.is_in(seen, value_set=distinct[name])))])
                codes[name].append(pc.index_in(column, value_set=distinct[name]))
    except Xml2ArrowError as exc:
        raise _malformed(exc, dataset, landed) from exc
    if not data_sets:
        return pa.table({"<dataset>": pa.array([], pa.uint32())})
    return pa.table({"<dataset>": np.concatenate(data_sets), **{
        name: pa.DictionaryArray.from_arrays(pa.concat_arrays(codes[name]), distinct[name])
        for name in names}})


def _observations(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                  chunk_rows: int, series: pa.Table, expected: int) -> Iterator[pa.Table]:
    # (data set, series) indexes in document order: a series' row is its data set's first
    # row plus its index within the data set
    series_dataset = series.column("<dataset>").to_numpy()
    keys = {name: series.column(name) for name in dimensions}
    # an observation's attribute that its series states where the observation does not
    on_series = {name: series.column(name) for name in _OBS_COLUMNS
                 if series.column(name).null_count < series.num_rows}
    batches = _reader([], list(_OBS_COLUMNS)).parse_batches(
        str(path), max_rows_per_batch=chunk_rows)
    seen = 0
    try:
        for _, batch in batches:
            data_set = batch.column("<dataset>").to_numpy()
            row = (np.searchsorted(series_dataset, data_set)
                   + batch.column("<series>").to_numpy().astype(np.int64))
            if len(row) and (row.max() >= len(series_dataset)
                             or (series_dataset[row] != data_set).any()):
                raise MalformedPayloadError("SDMX-ML: an <Obs> outside the series read",
                                            dataset=dataset.name, url=landed.url)
            index = pa.array(row)
            seen += batch.num_rows
            # the key columns stay dictionary-coded: DuckDB reads the codes and the one
            # dictionary, and looks each code up once, not once a row
            yield pa.table({**{dim: keys[dim].take(index) for dim in dimensions},
                            **{c: (pc.coalesce(batch.column(c),
                                               _decoded(on_series[c].take(index)))
                                   if c in on_series else batch.column(c))
                               for c in _OBS_COLUMNS}})
    except Xml2ArrowError as exc:
        raise _malformed(exc, dataset, landed) from exc
    if seen != expected:  # observations outside a series, beside series
        raise MalformedPayloadError(f"SDMX-ML: read {seen} <Obs> inside series, the body has "
                                    f"{expected} <Obs> tags", dataset=dataset.name,
                                    url=landed.url)


def _decoded(codes: pa.ChunkedArray) -> pa.ChunkedArray:
    return codes.cast(pa.string())


def native_tables(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                  chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Native columns (dimensions, TIME_PERIOD, OBS_VALUE, OBS_FLAG, CONF_STATUS), chunk_rows
    a table (the last one fewer).

    Structure-specific data in UTF-8 (what Eurostat serves) is checked by libxml2 and read by
    xml2arrow (Rust); generic data, other encodings, observations outside series, comments
    and 413 footers go to iter_native_rows (lxml).
    """
    prolog = read_prolog(path, dataset, landed)
    if prolog.root == "StructureSpecificData" and prolog.utf8:
        # libxml2 checks the document while xml2arrow reads the series keys (both release the
        # GIL: on two cores they overlap, on one they take turns); no observation is read
        # before the check has passed
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xml-check") as pool:
            checked = pool.submit(check_well_formed, path, dataset, landed)
            try:
                tables = _structure_specific_tables(path, dataset, landed, dimensions,
                                                    chunk_rows)
            finally:  # the check's error, if any, says best what is wrong with the body
                checked.result()
        if tables is not None:
            yield from tables
            return
    yield from _lxml_tables(path, dataset, landed, dimensions, chunk_rows)


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
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})


def insert_landed(con: duckdb.DuckDBPyConnection, target: str, landed: Landed,
                  body_path: Path, dataset: Dataset, dimensions: list[str],
                  chunk_rows: int = CHUNK_ROWS) -> int:
    """Insert an SDMX-ML data message's observations into `target`; return the rows inserted.

    The next batches are read while DuckDB harmonises and writes the one before. A parse
    failure (malformed XML, a DOCTYPE, a 413 footer) ends the stream, and is raised here in
    place of the error DuckDB's scan reports for it.
    """
    columns = [*dimensions, *_OBS_COLUMNS]
    schema = pa.schema([(name, CODES if name in dimensions else pa.string())
                        for name in columns])
    failures: list[BaseException] = []

    def open_native(c: duckdb.DuckDBPyConnection) -> None:
        tables = native_tables(body_path, dataset, landed, dimensions, chunk_rows)
        # (a cast is free where the columns have the type already: xml2arrow's key columns)
        batches = (batch for table in prefetched(tables, failures)
                   for batch in table.select(columns).cast(schema).to_batches())
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
