"""SDMX-ML 2.1 structure messages, parsed by sdmx1: codelists -> label rows, a dataflow with its
data structure -> the codes it has (checked before any data request).

Structure messages are small, so sdmx1's full object model is the right tool here: it handles
the SDMX information model (localised names, versions, partial codelists) that a hand parser
would get wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import sdmx

from kmu_pipeline.atomic import write_json
from kmu_pipeline.errors import MalformedPayloadError
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_ml import read_prolog

LABEL_COLUMNS = ["codelist", "code", "label_en", "label_de", "request_id"]


def _read_message(landed: Landed, body_path: Path):
    """The structure message read by sdmx1, after the DOCTYPE guard; any failure names the
    request."""
    read_prolog(body_path, _Named(landed.dataset), landed)
    try:
        return sdmx.read_sdmx(body_path)
    except Exception as exc:  # sdmx1 raises many types for bad input; name the request
        raise MalformedPayloadError(f"unreadable SDMX structure message: {exc}",
                                    dataset=landed.dataset, url=landed.url) from exc


def parse_codelists(landed: Landed, body_path: Path) -> pd.DataFrame:
    """One row per code of every codelist in the message, English and German names."""
    message = _read_message(landed, body_path)
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


@dataclass(frozen=True)
class FlowStructure:
    """What a dataflow has, as the agency's own structure message says: the key's dimensions in
    order and, per dimension, the codes that hold data (Eurostat's `detail=referencepartial`
    codelists, narrowed by an actual content constraint when the message carries one)."""

    flow: str
    dimensions: tuple[str, ...]
    codes: Mapping[str, frozenset[str]]
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def last_update(self) -> str:
        """Eurostat's UPDATE_DATA annotation: when the flow's data last changed upstream."""
        return self.annotations.get("UPDATE_DATA", "")

    def years(self) -> tuple[int | None, int | None]:
        """The oldest and latest period with data (OBS_PERIOD_OVERALL_* annotations)."""
        def year(name: str) -> int | None:
            text = self.annotations.get(name, "")[:4]
            return int(text) if text.isdigit() else None
        return year("OBS_PERIOD_OVERALL_OLDEST"), year("OBS_PERIOD_OVERALL_LATEST")


def parse_flow_structure(landed: Landed, body_path: Path) -> FlowStructure:
    """The dataflow, its data structure and the codes it has, read by sdmx1."""
    message = _read_message(landed, body_path)
    flows = list(getattr(message, "dataflow", {}).values())
    if len(flows) != 1:
        raise MalformedPayloadError(f"structure message holds {len(flows)} dataflows, not one",
                                    dataset=landed.dataset, url=landed.url)
    flow = flows[0]
    dsd = flow.structure
    if dsd is None or not len(dsd.dimensions.components):  # a reference: the DSD is beside it
        dsd = message.structure.get(getattr(dsd, "id", ""), dsd)
    if dsd is None or not len(dsd.dimensions.components):
        raise MalformedPayloadError(f"structure message has no data structure for {flow.id}",
                                    dataset=landed.dataset, url=landed.url)
    dimensions = tuple(d.id for d in dsd.dimensions.components
                       if not isinstance(d, sdmx.model.common.TimeDimension))
    codes = {d.id: _dimension_codes(message, d) for d in dsd.dimensions.components
             if d.id in dimensions}
    codes.update(_constrained_codes(message))
    annotations = {str(a.type): str(a.title) for a in flow.annotations if a.type}
    return FlowStructure(flow=flow.id, dimensions=dimensions, codes=MappingProxyType(codes),
                         annotations=MappingProxyType(annotations))


# What a parse depends on besides the body: this module's code and sdmx1's version. A cached
# structure made by other code is parsed again.
_PARSER = hashlib.sha256(Path(__file__).read_bytes() + sdmx.__version__.encode()).hexdigest()[:16]
CACHE_SUFFIX = ".flow.json"


def cached_flow_structure(landed: Landed, body_path: Path) -> FlowStructure:
    """parse_flow_structure, kept beside the body it was read from. A landed body never changes
    (it is named by its sha256), and a refresh where upstream has nothing new gets the same
    body back (304): reading the JSON instead of having sdmx1 parse the message again took a
    third off such a refresh (bench/RESULTS.md). The cache names the body's sha256 and the
    parser; anything else, or an unreadable cache, is parsed again and rewritten."""
    cache = body_path.with_name(body_path.stem + CACHE_SUFFIX)
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved["sha256"] == landed.sha256 and saved["parser"] == _PARSER:
            return FlowStructure(
                flow=saved["flow"], dimensions=tuple(saved["dimensions"]),
                codes=MappingProxyType({d: frozenset(c) for d, c in saved["codes"].items()}),
                annotations=MappingProxyType(dict(saved["annotations"])))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no cache yet, or not one this code wrote
    structure = parse_flow_structure(landed, body_path)
    with contextlib.suppress(OSError):  # a landing folder we cannot write to costs a parse
        write_json(cache, {"sha256": landed.sha256, "parser": _PARSER, "flow": structure.flow,
                           "dimensions": list(structure.dimensions),
                           "codes": {d: sorted(c) for d, c in structure.codes.items()},
                           "annotations": dict(structure.annotations)})
    return structure


def _dimension_codes(message, dimension) -> frozenset[str]:
    """The codes of the dimension's codelist; Eurostat may send the partial codelist in two
    versions (khaeru/sdmx#116): every partial version counts, a full one (all codes the
    codelist knows, not those the flow has) does not."""
    representation = dimension.local_representation
    codelist = representation.enumerated if representation is not None else None
    if codelist is None:
        return frozenset()
    found = {code.id for code in codelist}
    for other in message.codelist.values():
        if other.id == codelist.id and str(other.is_partial).lower() == "true":
            found |= {code.id for code in other}
    return frozenset(found)


def _constrained_codes(message) -> dict[str, frozenset[str]]:
    """Codes of an actual content constraint's cube regions, where the message has one."""
    narrowed: dict[str, frozenset[str]] = {}
    for constraint in getattr(message, "constraint", {}).values():
        role = getattr(getattr(constraint, "role", None), "role", None)
        if str(getattr(role, "name", role)).lower() != "actual":
            continue
        for region in getattr(constraint, "data_content_region", []):
            if not region.included:
                continue
            for dimension, selection in region.member.items():
                values = frozenset(v.value for v in selection.values)
                narrowed[dimension.id] = narrowed.get(dimension.id, frozenset()) | values
    return narrowed
