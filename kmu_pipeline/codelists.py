"""Eurostat codelists -> raw.eurostat__codelists (labels for geo, size class, indicator, unit).

Like a raw dataset, a failed refresh keeps the last good labels, marks the table stale in
meta.dataset_status and lets every other table publish (it used to fail the asset, and with it
the publish step of the whole run).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pandas as pd

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import KmuError
from kmu_pipeline.ingest import IngestReport, record_status
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_structure import LABEL_COLUMNS, parse_codelists
from kmu_pipeline.sources import eurostat
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.warehouse import Warehouse, replace_table

log = logging.getLogger(__name__)
CODELISTS_TABLE = "raw.eurostat__codelists"
_AS_DATASET = SimpleNamespace(table=CODELISTS_TABLE)  # what record_status needs of a Dataset


def refresh_codelists(*, client: HttpClient, base_url: str, warehouse: Warehouse,
                      run_id: str) -> list[Landed]:
    """Fetch every codelist the catalogue names and replace the labels table in one go."""
    source = load_catalogue().sources["eurostat"]
    report = IngestReport(dataset=eurostat.STRUCTURE_DATASET, table=CODELISTS_TABLE)
    try:
        report.landed = eurostat.fetch_codelists(client, source, base_url)
        labels = pd.concat([parse_codelists(item, item.body_path(client.landing.root))
                            for item in report.landed], ignore_index=True)
    except KmuError as exc:
        log.error("%s", exc)
        report.error = exc
        with warehouse.connect_build(run_id) as con:
            columns = ", ".join(f"{c} varchar" for c in LABEL_COLUMNS)
            con.execute(f"create table if not exists {CODELISTS_TABLE} ({columns})")
            record_status(con, _AS_DATASET, report)
        return []
    with warehouse.connect_build(run_id) as con:
        con.register("labels_frame", labels)
        report.rows = replace_table(
            con, CODELISTS_TABLE, "select * from labels_frame",
            description="Eurostat codelists: code -> English and German label",
            column_comments={"codelist": "Eurostat codelist id (GEO, SIZE_EMP, ...)",
                             "code": "Code as it appears in the data",
                             "label_en": "English label",
                             "request_id": "Landing id of the structure response",
                             "label_de": "German label where Eurostat has one"})
        con.unregister("labels_frame")
        record_status(con, _AS_DATASET, report)
    return report.landed
