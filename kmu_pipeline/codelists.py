"""Eurostat codelists -> raw.eurostat__codelists (labels for geo, size class, indicator, unit)."""

from __future__ import annotations

import pandas as pd

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.landing import Landed
from kmu_pipeline.parse.sdmx_structure import parse_codelists
from kmu_pipeline.sources import eurostat
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.warehouse import Warehouse, replace_table

CODELISTS_TABLE = "raw.eurostat__codelists"


def refresh_codelists(*, client: HttpClient, base_url: str, warehouse: Warehouse,
                      run_id: str) -> list[Landed]:
    """Fetch every codelist the catalogue names and replace the labels table in one go."""
    source = load_catalogue().sources["eurostat"]
    landed = eurostat.fetch_codelists(client, source, base_url)
    labels = pd.concat([parse_codelists(item, item.body_path(client.landing.root))
                        for item in landed], ignore_index=True)
    with warehouse.connect_build(run_id) as con:
        con.register("labels_frame", labels)
        replace_table(con, CODELISTS_TABLE, "select * from labels_frame",
                      description="Eurostat codelists: code -> English and German label",
                      column_comments={"codelist": "Eurostat codelist id (GEO, SIZE_EMP, ...)",
                                       "code": "Code as it appears in the data",
                                       "label_en": "English label",
                                       "request_id": "Landing id of the structure response",
                                       "label_de": "German label where Eurostat has one"})
        con.unregister("labels_frame")
    return landed
