"""Deterministic Eurostat-shaped data: SDMX-CSV 1.0 and SDMX-ML 2.1 structure-specific.

The bodies look exactly like Eurostat's answers for an isoc_* flow (column order, dimension
names, `LAST UPDATE` stamp, flags, the structure-specific namespace layout of ESTAT's
NAMA_10_GDP-ss.xml) and use only codes the bench catalogue entry maps, so validation passes for
real. The same n always gives the same bytes: series are a fixed stride through the code space,
values and flags a hash of the observation number.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from kmu_pipeline.catalogue import Catalogue, load_catalogue, parse_catalogue

DIMENSIONS = ("freq", "size_emp", "nace_r2", "indic_is", "unit", "geo")
CSV_HEADER = ("DATAFLOW,LAST UPDATE,freq,size_emp,nace_r2,indic_is,unit,geo,TIME_PERIOD,"
              "OBS_VALUE,OBS_FLAG,CONF_STATUS")
LAST_UPDATE = "27/02/26 23:00:00"
UPDATE_DATA = "2026-02-27T23:00:00+0100"  # the same moment as the flow's annotation states it
SIZES = ("0-9", "10-49", "50-249", "GE250", "10-249", "GE10")
UNITS = ("PC_ENT", "PC_EMP")
YEARS = tuple(range(2010, 2025))
GEOS = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "EU27_2020", "EA20",
    "NO", "IS", "RS", "TR", "ME", "MK", "BA",
)
# NACE Rev. 2 divisions (section letter + division), as in Eurostat's NACE_R2 codelist.
_SECTIONS = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43),
    "G": (45, 47), "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68),
    "M": (69, 75), "N": (77, 82), "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93),
    "S": (94, 96), "T": (97, 98), "U": (99, 99),
}
NACE = tuple(f"{s}{d:02d}" for s, (lo, hi) in _SECTIONS.items() for d in range(lo, hi + 1))
_STRIDE = 1_000_003  # prime, coprime to the series count: spreads a sample over every code


def indicator_codes() -> dict[str, str]:
    """Every Eurostat indicator code the project catalogue maps, code -> a harmonised name of
    its own. The catalogue maps some codes to one name (E_DI3_GELO and E_DI4_GELO, which
    Eurostat asks in alternate years); the bench data, every code in every year, would turn
    that into duplicate keys (at 5M observations it does)."""
    codes: dict[str, str] = {}
    for ds in load_catalogue().of_source("eurostat"):
        codes.update(ds.indicators)
    shared = {name for name in codes.values() if list(codes.values()).count(name) > 1}
    return {code: f"{name}__{code.lower()}" if name in shared else name
            for code, name in sorted(codes.items())}


def bench_catalogue(names: list[str]) -> Catalogue:
    """The project's Eurostat source plus one bench entry per name, built by parse_catalogue."""
    source = load_catalogue().sources["eurostat"]
    lines = ["[sources.eurostat]", f'base_url = "{source.base_url}"',
             f'base_url_env = "{source.base_url_env}"', f'scope = "{source.scope}"',
             f"dimensions = {list(source.dimensions)!r}".replace("'", '"'), ""]
    indicators = ", ".join(f'{k} = "{v}"' for k, v in indicator_codes().items())
    sizes = ", ".join(f'"{k}" = "{v}"' for k, v in zip(
        SIZES, ("0-9", "10-49", "50-249", "250+", "10-249", "10+"), strict=True))
    for name in names:
        lines += ["[[datasets]]", f'name = "{name}"', 'source = "eurostat"', f'code = "{name}"',
                  f'title = "Synthetic Eurostat-shaped benchmark flow {name}"',
                  'filters = { freq = "A" }', f"start_period = {YEARS[0]}",
                  f"indicators = {{ {indicators} }}", f"size_classes = {{ {sizes} }}",
                  'units = { PC_ENT = "pct_enterprises", PC_EMP = "pct_employed" }', ""]
    return parse_catalogue("\n".join(lines))


def _series_keys(n_obs: int) -> list[tuple[str, ...]]:
    indicators = list(indicator_codes())
    radix = (len(SIZES), len(NACE), len(indicators), len(UNITS), len(GEOS))
    total = math.prod(radix)
    n_series = math.ceil(n_obs / len(YEARS))
    if n_series > total:
        raise ValueError(f"at most {total * len(YEARS)} distinct observations, asked {n_obs}")
    keys = []
    for index in sorted((s * _STRIDE) % total for s in range(n_series)):
        digits = []
        for base in reversed(radix):
            index, digit = divmod(index, base)
            digits.append(digit)
        geo, unit, indic, nace, size = digits
        keys.append(("A", SIZES[size], NACE[nace], indicators[indic], UNITS[unit], GEOS[geo]))
    return keys


def observations(n_obs: int) -> Iterator[tuple[tuple[str, ...], int, str, str]]:
    """(series key, year, OBS_VALUE, OBS_FLAG) in Eurostat's sort order, exactly n_obs."""
    i = 0
    for key in _series_keys(n_obs):
        for year in YEARS:
            if i == n_obs:
                return
            h = (i * 2_654_435_761 + 12_345) % 1_000_003
            if i % 97 == 0:  # confidential: no value, flagged
                value, flag = "", "c"
            else:
                value = f"{h % 10_000 / 100:g}"
                flag = "b" if i % 31 == 0 else ("e" if i % 43 == 0 else "")
            yield key, year, value, flag
            i += 1


def write_sdmx_csv(path: Path, n_obs: int, flow: str) -> None:
    flow_ref = f"ESTAT:{flow.upper()}(1.0)"
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(CSV_HEADER + "\n")
        buf = []
        for key, year, value, flag in observations(n_obs):
            conf = "C" if flag == "c" else ""
            buf.append(f"{flow_ref},{LAST_UPDATE},{','.join(key)},{year},{value},{flag},{conf}\n")
            if len(buf) >= 50_000:
                out.writelines(buf)
                buf = []
        out.writelines(buf)


_SS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<m:StructureSpecificData xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" \
xmlns:s="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific" \
xmlns:u="urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=ESTAT:{flow}(1.0):ObsLevelDim:\
TIME_PERIOD" xmlns:c="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <m:Header>
    <m:ID>BENCH{n}</m:ID>
    <m:Test>false</m:Test>
    <m:Prepared>2026-02-27T23:00:00.000Z</m:Prepared>
    <m:Sender id="ESTAT"/>
    <m:Structure dimensionAtObservation="TIME_PERIOD" structureID="STR1">
      <c:StructureUsage>
        <Ref id="{flow}" agencyID="ESTAT" version="1.0"/>
      </c:StructureUsage>
    </m:Structure>
    <m:DataSetID>{flow}</m:DataSetID>
    <m:Extracted>2026-02-27T23:00:00.000Z</m:Extracted>
  </m:Header>
  <u:DataSet s:structureRef="STR1" s:dataScope="DataStructure" xsi:type="u:DataSetType">
"""
_SS_TAIL = "  </u:DataSet>\n</m:StructureSpecificData>\n"


def write_sdmx_ml(path: Path, n_obs: int, flow: str) -> None:
    """Structure-specific data, one <Series> per key with its <Obs> children."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(_SS_HEAD.format(flow=flow.upper(), n=n_obs))
        current = None
        buf = []
        for key, year, value, flag in observations(n_obs):
            if key != current:
                if current is not None:
                    buf.append("    </Series>\n")
                attrs = " ".join(f'{d}="{v}"' for d, v in zip(DIMENSIONS, key, strict=True))
                buf.append(f"    <Series {attrs}>\n")
                current = key
            obs = f'      <Obs TIME_PERIOD="{year}"'
            obs += f' OBS_VALUE="{value}"' if value else ""
            obs += f' OBS_FLAG="{flag}"' if flag else ""
            obs += ' CONF_STATUS="C"' if flag == "c" else ""  # as the CSV's CONF_STATUS column
            buf.append(obs + "/>\n")
            if len(buf) >= 50_000:
                out.writelines(buf)
                buf = []
        if current is not None:
            buf.append("    </Series>\n")
        out.writelines(buf)
        out.write(_SS_TAIL)
