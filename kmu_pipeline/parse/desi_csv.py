"""The Digital Scoreboard's DESI CSV download -> the rows of schemas.DesiRows, as delivered.

DESI rows are scores, weighted contributions and raw indicator values of the Digital Economy and
Society Index, not survey observations by size class, so they keep the source's long format in
a table of their own shape. Anything but the DESI columns (an HTML page, another file) is
refused by its header before a row is read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kmu_pipeline.errors import MalformedPayloadError, SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.schemas import DesiRows

HEADER = ["observation", "time_period", "ref_area", "indicator", "breakdown", "unit_measure",
          "value", "flag", "note"]


def parse_desi(landed: Landed, body: Path) -> pd.DataFrame:
    """The CSV as a frame of DesiRows' columns (validated where it is loaded)."""
    try:
        with open(body, encoding="utf-8-sig") as fh:
            header = fh.readline().strip().replace('"', "").split(",")
        if header != HEADER:
            raise MalformedPayloadError(f"not the DESI CSV: header {header[:9]}",
                                        dataset=landed.dataset, url=landed.url)
        frame = pd.read_csv(body, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise MalformedPayloadError(f"unreadable DESI CSV: {str(exc).splitlines()[0]}",
                                    dataset=landed.dataset, url=landed.url) from None
    frame = frame.drop(columns=["observation", "note"]).replace({"": None})
    for column in ("time_period", "value"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.loc[numbers.isna() & frame[column].notna(), column].unique()[:5]
        if len(bad):
            raise SchemaError(f"non-numeric {column}: {sorted(map(str, bad))}",
                              dataset=landed.dataset, url=landed.url)
        frame[column] = numbers
    frame["request_id"] = landed.request_id
    return frame[list(DesiRows.to_schema().columns)]
