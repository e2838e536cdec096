"""Insert parsed chunks (Arrow tables or pandas frames) into a DuckDB table in one statement.

GENESIS answers are parsed in Python, chunk by chunk. DuckDB reads the chunks as one Arrow
stream, so a single INSERT writes full row groups to the file as they arrive; an INSERT per
chunk kept the whole uncommitted transaction in memory (1.6 GB for 5M SDMX-ML observations,
bench/). A thread parses the next chunks while DuckDB compresses and writes the current one
(`prefetched`, which the SDMX-ML reader uses too): parsers need the GIL, DuckDB releases it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

import duckdb
import pandas as pd
import pyarrow as pa

from kmu_pipeline.schemas import OBSERVATION_COLUMNS, written_columns

ARROW_SCHEMA = pa.schema([
    (c, pa.int64() if c == "year" else pa.float64() if c == "value" else pa.large_string())
    for c in OBSERVATION_COLUMNS])
BATCH_ROWS = 122_880 // 6  # a sixth of DuckDB's default row_group_size
# DuckDB's bound while it appends parsed chunks: it keeps the blocks it wrote cached up to its
# bound, and the parser's own memory comes on top (5M SDMX-ML observations: ~50 MB less peak)
INSERT_MEMORY_LIMIT = "32MB"


def prefetched(items: Iterable, failures: list[BaseException],
               ahead: int = 2) -> Iterator:
    """Produce `items` in a thread, at most `ahead` ahead of the consumer (flat memory).

    An exception in the producer ends the stream and lands in `failures`: the consumer is
    DuckDB's scan, which would replace it with an error of its own, so the caller re-raises it
    after the statement.
    """
    ready: queue.SimpleQueue = queue.SimpleQueue()
    taken = threading.Semaphore(ahead)
    done, stop = object(), threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            while True:
                while not taken.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(iterator, done)
                ready.put(item)
                if item is done:
                    return
        except BaseException as exc:
            failures.append(exc)
            ready.put(done)

    worker = threading.Thread(target=produce, name="chunk-prefetch", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not done:
            taken.release()
            yield item
    finally:
        stop.set()
        worker.join()


def _batches(chunks: Iterable[pa.Table | pd.DataFrame], counted: list[int],
             ) -> Iterator[pa.RecordBatch]:
    """The chunks as batches of BATCH_ROWS (the last one shorter). DuckDB fills whole row groups
    from batches that divide its row-group size; 50,000-row batches left partial row groups that
    the next checkpoint rewrote (0.2 s per 500k rows). Parsers cut chunks of BATCH_ROWS, so only
    a chunk that ends a half or a body is re-cut, and copied."""
    pending: list[pa.Table] = []
    rows = 0
    for chunk in chunks:
        table = (chunk if isinstance(chunk, pa.Table)
                 else pa.Table.from_pandas(chunk, preserve_index=False))
        table = table.select(OBSERVATION_COLUMNS).cast(ARROW_SCHEMA)
        counted[0] += table.num_rows
        pending.append(table)
        rows += table.num_rows
        if rows >= BATCH_ROWS:
            whole, pending = pa.concat_tables(pending), []
            cut = rows - rows % BATCH_ROWS
            # combine_chunks copies only when pieces were pending (a misaligned chunk)
            yield from whole.slice(0, cut).combine_chunks().to_batches(BATCH_ROWS)
            if cut < rows:
                rest = whole.slice(cut)  # copied, so that the batches above can be freed
                pending = [rest.take(pa.array(range(rest.num_rows)))]
            rows -= cut
    if rows:
        yield from pa.concat_tables(pending).combine_chunks().to_batches(BATCH_ROWS)


def insert_chunks(con: duckdb.DuckDBPyConnection, target: str,
                  chunks: Iterable[pa.Table | pd.DataFrame]) -> int:
    """Insert chunks of observation columns into `target`; return the rows inserted.

    A KmuError raised while parsing (bad codes, malformed payload) is raised here, unchanged;
    the rows inserted before it stay in the caller's transaction for it to roll back.
    """
    failures: list[BaseException] = []
    counted = [0]
    reader = pa.RecordBatchReader.from_batches(
        ARROW_SCHEMA, prefetched(_batches(chunks, counted), failures, ahead=1))
    columns = ", ".join(written_columns(con, target, OBSERVATION_COLUMNS))
    con.register("chunks", reader)
    (bound,), = con.execute("select current_setting('memory_limit')").fetchall()
    con.execute("set memory_limit = $1", [INSERT_MEMORY_LIMIT])
    try:
        con.execute(f"insert into {target} ({columns}) select {columns} from chunks").fetchall()
    except duckdb.Error:
        if failures:  # DuckDB's scan failed because the producer did: report the cause
            raise failures[0] from None
        raise
    con.execute("set memory_limit = $1", [bound])
    if failures:
        raise failures[0]
    con.unregister("chunks")  # (an aborted transaction refuses it; the connection closes)
    return counted[0]


def insert_frame(con: duckdb.DuckDBPyConnection, target: str, frame: pd.DataFrame) -> int:
    """Insert a small frame (labels, DESI, a parser's observations) whose columns are the
    target's, by name; a raw table's generated columns are the table's own."""
    columns = ", ".join(written_columns(con, target, frame.columns))
    con.register("incoming_frame", frame)
    try:
        con.execute(f"insert into {target} ({columns}) select {columns} from incoming_frame")
    finally:
        con.unregister("incoming_frame")
    return len(frame)
