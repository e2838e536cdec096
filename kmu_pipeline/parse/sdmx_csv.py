"""SDMX-CSV 1.0 (Eurostat's `format=SDMX-CSV`) -> tidy chunks, streamed by DuckDB's CSV reader."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import MalformedPayloadError, SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_harmonise import (
    checked_chunks,
    harmonise_sql,
    prefetched,
    register_maps,
)
from kmu_pipeline.warehouse import connect

CHUNK_ROWS = 50_000
# One DuckDB thread reads and harmonises while the caller's thread runs pandera on the previous
# batch (two cores). With smaller CSV buffers and chunks this keeps a 5M-row ingest under
# 400 MB; two DuckDB threads, 32 MB buffers or 100k-row chunks each cost 50-90 MB more for
# 0-10% speed (bench/RESULTS.md).
PARSE_DUCKDB = {"threads": "1", "memory_limit": "96MB"}
# Columns Eurostat adds besides the key dimensions; anything else is schema drift.
KNOWN_EXTRA = {"DATAFLOW", "LAST UPDATE", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"}


def read_header(path: Path, dataset: Dataset, landed: Landed) -> list[str]:
    """The header row, refusing bodies that are not SDMX-CSV at all (HTML error pages, XML)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        first = fh.readline(65536)
    if not first.startswith("DATAFLOW,"):
        raise MalformedPayloadError(
            f"not SDMX-CSV (content-type {landed.content_type or '?'}; body starts "
            f"{first[:60]!r})", dataset=dataset.name, url=landed.url,
        )
    return next(csv.reader([first]))


def check_columns(header: list[str], dimensions: list[str], dataset: Dataset,
                  landed: Landed) -> None:
    missing = [c for c in [*dimensions, "TIME_PERIOD", "OBS_VALUE"] if c not in header]
    extra = [c for c in header if c not in KNOWN_EXTRA and c not in dimensions]
    if missing or extra:
        raise SchemaError(
            f"SDMX-CSV columns changed: missing {missing}, new {extra} (header {header})",
            dataset=dataset.name, url=landed.url,
        )


def parse_landed(landed: Landed, body_path: Path, dataset: Dataset, dimensions: list[str],
                 chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Stream an SDMX-CSV body as tidy observation chunks."""
    header = read_header(body_path, dataset, landed)
    check_columns(header, dimensions, dataset, landed)
    con = connect(**PARSE_DUCKDB)
    try:
        register_maps(con, dataset)
        native = con.read_csv(
            str(body_path), header=True, all_varchar=True, delimiter=",", quotechar='"',
            buffer_size=8 << 20,  # SDMX-CSV lines are ~100 bytes
        )
        con.register("native", native)
        relation = con.sql(harmonise_sql(header),
                           params={"dataset": dataset.name, "request_id": landed.request_id})
        yield from checked_chunks(prefetched(relation.to_arrow_reader(chunk_rows)), dataset,
                                  landed)
    except (duckdb.InvalidInputException, duckdb.ConversionException, UnicodeDecodeError) as exc:
        raise MalformedPayloadError(f"malformed SDMX-CSV: {str(exc).splitlines()[0]}",
                                    dataset=dataset.name, url=landed.url) from exc
    finally:
        con.close()
