"""SDMX-ML 2.1 structure messages (codelists) -> label rows, parsed by sdmx1.

Structure messages are small, so sdmx1's full object model is the right tool here: it handles
the SDMX information model (localised names, versions, partial codelists) that a hand parser
would get wrong.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sdmx

from kmu_pipeline.errors import MalformedPayloadError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_ml import refuse_doctype

LABEL_COLUMNS = ["codelist", "code", "label_en", "label_de", "request_id"]


def parse_codelists(landed: Landed, body_path: Path) -> pd.DataFrame:
    """One row per code of every codelist in the message, English and German names."""
    refuse_doctype(body_path, _Named(landed.dataset), landed)
    try:
        message = sdmx.read_sdmx(body_path)
    except Exception as exc:  # sdmx1 raises many types for bad input; name the request
        raise MalformedPayloadError(f"unreadable SDMX structure message: {exc}",
                                    dataset=landed.dataset, url=landed.url) from exc
    rows = []
    for codelist in message.codelist.values():
        for code in codelist:
            names = code.name.localizations
            rows.append((codelist.id, code.id, names.get("en"), names.get("de"),
                         landed.request_id))
    if not rows:
        raise MalformedPayloadError("structure message holds no codelist",
                                    dataset=landed.dataset, url=landed.url)
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name
