"""Parse a large structure-specific SDMX-ML message in two processes, one half each.

expat needs the GIL, so one process parses at most ~450k observations/s however many cores
there are. A message is cut at a `<Series` tag near its middle; a forked child parses the
second half behind a copy of the start tags open there (the root and DataSet elements) and
spools its observation tables (harmonised with pyarrow) to a temporary Arrow file, while another
child streams the first half, closed by the matching end tags, through a pipe.

The cut is only trusted because expat checks both halves. The first half parses with the
synthetic end tags only if the cut lies between two children of DataSet: inside a comment, a
CDATA section or a deeper element, the end tags leave a token unclosed or mismatch an open tag.
The second half then parses in exactly the context the whole message had there. Any failure
of either child (also a genuinely malformed message) raises SplitFailed; the caller discards the
rows and parses the message sequentially, which gives the real error.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

import pyarrow as pa

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_harmonise import harmonise_arrow
from kmu_pipeline.parse.sdmx_ml import (
    _StructureSpecific,
    file_blocks,
    structure_specific_tables,
)

MIN_SPLIT_BYTES = 8 << 20  # below this, forking costs more than half a parse saves
SEARCH_BYTES = 1 << 20
_SERIES_TAG = re.compile(rb"<Series[\s/>]")


class SplitFailed(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """A half did not parse: parse the whole message sequentially instead."""


class _Head(Exception):  # noqa: N818
    """The first <Series> started: the open elements are known."""


def open_elements(path: Path) -> list[tuple[str, dict[str, str]]] | None:
    """The elements open at the first <Series> (name, attributes as written), or None for
    anything but UTF-8 structure-specific data with Series under root/DataSet. A DOCTYPE stops
    the scan before expat reads its declarations: the sequential parser refuses the message."""
    stack: list[tuple[str, dict[str, str]]] = []
    declared: list[str | None] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "Series":
            raise _Head
        stack.append((name, attrs))

    def doctype(*_: object) -> None:
        raise expat.ExpatError("DOCTYPE")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: stack.pop()
    parser.XmlDeclHandler = lambda version, encoding, standalone: declared.append(encoding)
    try:
        for block in file_blocks(path, 0, SEARCH_BYTES):
            parser.Parse(block, False)
    except _Head:
        utf8 = not declared or (declared[0] or "utf-8").lower() in ("utf-8", "utf8")
        names = [name.rpartition(":")[2] for name, _ in stack]
        return stack if utf8 and len(stack) == 2 and names[1] == "DataSet" else None
    except expat.ExpatError:
        return None
    return None


def find_cut(path: Path) -> tuple[int, bytes, bytes] | None:
    """(offset of a `<Series` near the middle, the start tags open there, their end tags)."""
    size = path.stat().st_size
    if size < MIN_SPLIT_BYTES:
        return None
    head = open_elements(path)
    if head is None:
        return None
    with open(path, "rb") as fh:
        fh.seek(size // 2)
        window = fh.read(SEARCH_BYTES)
    found = _SERIES_TAG.search(window)
    if not found:
        return None
    opening = '<?xml version="1.0" encoding="UTF-8"?>' + "".join(
        f"<{name}{''.join(f' {k}={quoteattr(v)}' for k, v in attrs.items())}>"
        for name, attrs in head)
    closing = "".join(f"</{name}>" for name, _ in reversed(head))
    return size // 2 + found.start(), opening.encode(), closing.encode()


def _parse_half(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                chunk_rows: int, blocks: Iterator[bytes], sink: int | str,
                inherited: tuple[int, ...]) -> None:
    """In a child: parse and harmonise the blocks (pyarrow: DuckDB must not run after fork),
    write the observation tables as an Arrow IPC stream to `sink` (a pipe's fd or a file path),
    and leave with os._exit (no atexit, no parent finalisers)."""
    # No garbage collection: parsing makes no reference cycles, and a collection would touch
    # every object inherited from the parent, copying its pages into this process.
    gc.disable()
    # glibc's allocator for Arrow here: mimalloc kept what each chunk freed (+30 MB a process)
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        for fd in inherited:  # the parent's end of the pipe, which must see EOF from us
            os.close(fd)
        out = (pa.PythonFile(os.fdopen(sink, "wb"), mode="w") if isinstance(sink, int)
               else pa.OSFile(sink, "wb"))
        reader = _StructureSpecific(path, dataset, landed)
        writer = None
        for native in structure_specific_tables(blocks, reader, dimensions, chunk_rows):
            table = harmonise_arrow(native, dataset, landed.request_id)
            if table is None:  # something unusual: the sequential parse names it
                os._exit(1)
            writer = writer or pa.ipc.new_stream(out, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
        out.close()
    except BaseException:  # noqa: BLE001 (any failure means: parse sequentially)
        os._exit(1)
    os._exit(0)


def _blocks(prefix: bytes, path: Path, start: int, stop: int | None,
            suffix: bytes) -> Iterator[bytes]:
    yield prefix
    yield from file_blocks(path, start, stop)
    yield suffix


def observation_tables_in_halves(path: Path, dataset: Dataset, landed: Landed,
                                 dimensions: list[str], chunk_rows: int,
                                 ) -> Iterator[pa.Table] | None:
    """The message's observation tables, first half then second, or None when it cannot be
    cut (then the sequential parser, which also refuses a DOCTYPE, reads it). Raises
    SplitFailed (after the first half's tables) when a half did not parse or held anything
    unusual."""
    cut = find_cut(path)
    if cut is None:
        return None
    return _run_halves(path, dataset, landed, dimensions, chunk_rows, cut)


def _run_halves(path: Path, dataset: Dataset, landed: Landed, dimensions: list[str],
                chunk_rows: int, cut: tuple[int, bytes, bytes]) -> Iterator[pa.Table]:
    offset, opening, closing = cut
    # fork: the children only run expat and pyarrow, and leave with os._exit (no atexit, no
    # finalisers of the parent's DuckDB connections); a fresh interpreter would cost ~0.3 s
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="kmu-sdmx-") as tmp:
        spool = Path(tmp) / "second-half.arrows"
        read_fd, write_fd = os.pipe()
        first = context.Process(target=_parse_half, daemon=True, args=(
            path, dataset, landed, dimensions, chunk_rows,
            _blocks(b"", path, 0, offset, closing), write_fd, (read_fd,)))
        second = context.Process(target=_parse_half, daemon=True, args=(
            path, dataset, landed, dimensions, chunk_rows,
            _blocks(opening, path, offset, None, b""), str(spool), (read_fd, write_fd)))
        try:
            first.start()
            second.start()
            os.close(write_fd)
            write_fd = -1
            with os.fdopen(read_fd, "rb") as pipe:
                read_fd = -1
                try:
                    for batch in pa.ipc.open_stream(pa.PythonFile(pipe, mode="r")):
                        yield pa.Table.from_batches([batch])
                except (pa.ArrowInvalid, OSError):
                    pass  # the child died mid-stream (or wrote nothing): its exit code says
            for child in (first, second):
                child.join()
                if child.exitcode != 0:
                    raise SplitFailed
            with pa.OSFile(str(spool), "rb") as source:  # not mapped: its pages would count
                for batch in pa.ipc.open_stream(source):  # as our resident memory
                    yield pa.Table.from_batches([batch])
        finally:
            for child in (first, second):
                if child.is_alive():
                    child.kill()
                    child.join()
            for fd in (read_fd, write_fd):
                if fd >= 0:
                    os.close(fd)
