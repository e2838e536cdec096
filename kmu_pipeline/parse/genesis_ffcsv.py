"""GENESIS ffcsv ("flat file CSV") answers -> tidy observation chunks.

An ffcsv answer is a ZIP holding one `;`-separated UTF-8 file with a BOM: one row per value,
columns statistics_code; ...; time; N_variable_code; N_variable_attribute_code; ...; value;
value_unit; value_variable_code; value_q. Values use a decimal comma, and a value cell may hold
one of GENESIS's signs instead of a number: '-' nothing (exactly zero), '.' unknown or secret,
'x' not applicable, '/' too uncertain, '...' not yet available. value_q is the quality flag
(e final, p provisional, r revised, s estimated). Both are kept in `flag`, never dropped.

The ZIP is read in memory, never extracted, and refused when it holds anything but one plain
member or decompresses absurdly (a zip bomb).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import MalformedPayloadError, SchemaError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.safe_zip import read_single_member

MAX_MEMBER_BYTES = 1 << 30
SIGNS = {"-": 0.0, ".": None, "x": None, "/": None, "...": None}
NEEDED = ("time", "value", "value_variable_code", "value_q")


def _variable_columns(frame: pd.DataFrame) -> dict[str, str]:
    """GENESIS variable code -> the column holding its attribute codes, for this file."""
    found = {}
    for col in frame.columns:
        if col.endswith("_variable_code") and col[0].isdigit():
            prefix = col[: -len("_variable_code")]
            codes = frame[col].dropna().unique()
            for code in codes:
                found[str(code)] = f"{prefix}_variable_attribute_code"
    found["value_variable_code"] = "value_variable_code"
    return found


def _values_and_flags(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    raw = frame["value"].str.strip()
    sign = raw.where(raw.isin(list(SIGNS)))
    numeric = pd.to_numeric(raw.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
                            .where(sign.isna()), errors="coerce")
    bad = sign.isna() & numeric.isna()
    if bad.any():
        raise ValueError(f"non-numeric values {sorted(raw[bad].unique())[:5]}")
    value = numeric.where(sign.isna(), sign.map(SIGNS).astype("float64"))
    quality = frame["value_q"].str.strip().replace("", None)
    flag = sign.where(sign.notna(), quality)
    return value, flag


def _column(frame: pd.DataFrame, variables: dict[str, str], variable: str | None,
            what: str) -> pd.Series:
    if variable is None:
        return pd.Series("TOTAL", index=frame.index)
    if variable not in variables:
        raise KeyError(f"{what} variable {variable} not in the table (it has "
                       f"{sorted(v for v in variables if v != 'value_variable_code')})")
    return frame[variables[variable]].str.strip()


def to_observations(frame: pd.DataFrame, dataset: Dataset, landed: Landed) -> pd.DataFrame:
    """Map one ffcsv frame onto the observation columns with the catalogue's code maps."""
    variables = _variable_columns(frame)
    if dataset.indicator_variable is None or (dataset.size_variable is None
                                              and dataset.size_class is None):
        raise KeyError("a GENESIS entry needs indicator_variable, and size_variable or "
                       "size_class")
    indicator_code = _column(frame, variables, dataset.indicator_variable, "indicator")
    keep = indicator_code.isin(list(dataset.indicators))  # the catalogue selects indicators
    frame, indicator_code = frame[keep], indicator_code[keep]
    size_code = _column(frame, variables, dataset.size_variable, "size class")
    unknown = sorted(set(size_code) - set(dataset.size_classes))
    if dataset.size_variable is None:
        size_class = pd.Series(dataset.size_class, index=frame.index)
    elif unknown:
        raise KeyError(f"size class codes {unknown} are not in the catalogue's size map")
    else:
        size_class = size_code.map(dataset.size_classes)
    unit_code = frame["value_variable_code"].str.strip()
    if set(unit_code) - set(dataset.units):
        raise KeyError(f"value variables {sorted(set(unit_code) - set(dataset.units))} have no "
                       f"unit in the catalogue")
    value, flag = _values_and_flags(frame)
    return pd.DataFrame({
        "source": dataset.source,
        "dataset": dataset.name,
        "indicator": indicator_code.map(dataset.indicators),
        "indicator_code": indicator_code,
        "size_class": size_class,
        "nace": _column(frame, variables, dataset.nace_variable, "NACE"),
        "geo": "DE",
        "unit": unit_code.map(dataset.units),
        "year": pd.to_numeric(frame["time"].str.strip().str[:4], errors="raise").astype("int64"),
        "value": value,
        "flag": flag,
        "conf_status": None,  # GENESIS signs a secret value '.' in the flag
        "last_update": None,
        "request_id": landed.request_id,
    }).reset_index(drop=True)


def parse_landed(landed: Landed, body: Path, dataset: Dataset) -> Iterator[pd.DataFrame]:
    """Observation chunks of one landed answer; JSON status answers of the job route yield none."""
    with open(body, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"{"):
        return
    if not head.startswith(b"PK"):
        raise MalformedPayloadError(
            f"expected an ffcsv ZIP, got content-type {landed.content_type or '?'} starting "
            f"{head!r}", dataset=dataset.name, url=landed.url)
    data = read_single_member(body, max_bytes=MAX_MEMBER_BYTES, refuse=lambda why: (
        MalformedPayloadError(f"ffcsv ZIP refused: {why}", dataset=dataset.name,
                              url=landed.url)))
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=";", dtype=str, encoding="utf-8-sig",
                            keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MalformedPayloadError(f"ffcsv member is not readable CSV ({exc})",
                                    dataset=dataset.name, url=landed.url) from None
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise SchemaError(f"ffcsv without columns {missing} (has {list(frame.columns)[:8]}...)",
                          dataset=dataset.name, url=landed.url)
    if frame.empty:  # a table without values for the selection: an empty raw table
        return
    try:
        yield to_observations(frame, dataset, landed)
    except (KeyError, ValueError) as exc:
        raise SchemaError(f"GENESIS table {dataset.code}: {exc.args[0]}", dataset=dataset.name,
                          url=landed.url) from None
