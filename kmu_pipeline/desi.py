"""The Digital Scoreboard's DESI dataset -> raw.desi__desi, kept in the source's long format.

DESI rows are scores, weighted contributions and raw indicator values of the Digital Economy and
Society Index, not survey observations by size class, so they get their own raw table and
pandera model instead of being forced into staging.observations. Like a catalogue dataset, a
failed refresh keeps the last good table and marks it stale in meta.dataset_status.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import KmuError, MalformedPayloadError, SchemaError
from kmu_pipeline.ingest import IngestReport, record_status
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.schemas import column_descriptions
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.warehouse import Warehouse, replace_table

log = logging.getLogger(__name__)
DESI_TABLE = "raw.desi__desi"
HEADER = ["observation", "time_period", "ref_area", "indicator", "breakdown", "unit_measure",
          "value", "flag", "note"]
_AS_DATASET = SimpleNamespace(table=DESI_TABLE)


class DesiRows(pa.DataFrameModel):
    """DESI as delivered: one value per year, country, indicator, breakdown and unit."""

    time_period: Series[int] = pa.Field(ge=2010, le=2100, description="DESI edition year")
    ref_area: Series[str] = pa.Field(str_matches=r"^[A-Z]{2}$",
                                     description="Country code (EU = EU aggregate)")
    indicator: Series[str] = pa.Field(str_matches=r"^desi", description="DESI indicator id")
    breakdown: Series[str] = pa.Field(description="Breakdown, or the child of a weighted score")
    unit_measure: Series[str] = pa.Field(
        description="Unit: pc_desi_sliders (dimension score 0-100), egov_score (weighted "
                    "contribution), pc_ent/pc_turn (raw share, 0-1), ...")
    value: Series[float] = pa.Field(nullable=True, description="Value in unit_measure")
    flag: Series[str] = pa.Field(nullable=True, description="Source flag, verbatim")
    request_id: Series[str] = pa.Field(str_length={"min_value": 16, "max_value": 16},
                                       description="Landing id of the download")

    class Config:
        strict = True
        coerce = True
        unique = ["time_period", "ref_area", "indicator", "breakdown", "unit_measure"]


def desi_request() -> Request:
    path = str(load_catalogue().sources["desi"].options["download_path"])
    return Request(source="desi", dataset="desi", path=path, accept="text/csv")


def parse_desi(landed: Landed, body) -> pd.DataFrame:
    """The CSV as a validated frame; anything else (HTML page, other columns) is an error."""
    with open(body, encoding="utf-8-sig") as fh:
        header = fh.readline().strip().replace('"', "").split(",")
    if header != HEADER:
        raise MalformedPayloadError(f"not the DESI CSV: header {header[:9]}", dataset="desi",
                                    url=landed.url)
    frame = pd.read_csv(body, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame.drop(columns=["observation", "note"]).replace({"": None})
    frame["request_id"] = landed.request_id
    try:  # 17k rows: pandera's own lazy validation, uniqueness included
        return DesiRows.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        raise SchemaError(f"DESI rows fail the schema: {cases.head(5).to_dict('records')}",
                          dataset="desi", url=landed.url, failure_cases=cases.head(50)) from None


def refresh_desi(*, client: HttpClient, base_url: str, warehouse: Warehouse,
                 run_id: str) -> IngestReport:
    report = IngestReport(dataset="desi", table=DESI_TABLE)
    try:
        report.landed = [client.fetch(desi_request(), base_url)]
        rows = parse_desi(report.landed[0], report.landed[0].body_path(client.landing.root))
    except KmuError as exc:
        log.error("%s", exc)
        report.error = exc
        with warehouse.connect_build(run_id) as con:
            con.execute(f"create table if not exists {DESI_TABLE} (time_period integer, "
                        "ref_area varchar, indicator varchar, breakdown varchar, "
                        "unit_measure varchar, value double, flag varchar, request_id varchar)")
            record_status(con, _AS_DATASET, report)
        return report
    with warehouse.connect_build(run_id) as con:
        con.register("desi_frame", rows)
        report.rows = replace_table(
            con, DESI_TABLE, "select * from desi_frame",
            description="DESI (Digital Economy and Society Index) as downloaded from the "
                        "Commission's Digital Scoreboard: scores, weighted contributions and raw "
                        "indicator values",
            column_comments=column_descriptions(DesiRows))
        con.unregister("desi_frame")
        record_status(con, _AS_DATASET, report)
    return report


DESI_MART = "marts.desi_2020"
MAX_DIFFERENCE = 0.5  # points: the tolerance the issue sets for the recomputation


def integration_reproduction(con) -> dict:
    """How well the recomputed dimension 4 matches the published one, over the 28 countries."""
    countries, worst, mismatched = con.execute(f"""
        with ranked as (
            select geo, recomputed_minus_published as diff, dimension_rank,
                rank() over (order by recomputed_score desc) as recomputed_rank
            from {DESI_MART}
            where dimension = 'desi_4_idt' and geo <> 'EU'
        )
        select count(*), max(abs(diff)), count(*) filter (where recomputed_rank <> dimension_rank)
        from ranked""").fetchone()
    return {"countries": countries, "max_abs_difference": worst, "rank_mismatches": mismatched,
            "passed": bool(countries) and worst is not None and worst <= MAX_DIFFERENCE
            and mismatched == 0}
