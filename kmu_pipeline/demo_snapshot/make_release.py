"""Write the demo's second release: `python -m kmu_pipeline.demo_snapshot.make_release`.

releases/2026-06/ overlays the base snapshot (replay.OVERLAYS): it holds only the answers of
isoc_cicce_use that a later Eurostat release would change, its data (SDMX-CSV, `LAST UPDATE`
30/06/26) and its flow structure (`UPDATE_DATA` 2026-06-30), and every other request is answered
from the base. Replaying the base, then this directory, gives two recorded releases, so
history.observations and marts.revisions have something to show.

THE CHANGES ARE INVENTED REVISION FIXTURES, not Eurostat figures (no second real vintage of
these rows could be cited): each is listed below and in README.md, one of every kind a release
brings, on values small enough to check by hand. Every other row is the base's cited value.
"""

from __future__ import annotations

import shutil

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.demo_snapshot.eurostat_structure import flow_structure_xml
from kmu_pipeline.demo_snapshot.make_eurostat import (
    HERE,
    data_rows,
    sdmx_csv,
    structure_codes,
)
from kmu_pipeline.replay import OVERLAY_FILE, add_recording
from kmu_pipeline.sources.eurostat import SDMX_CSV, STRUCTURE, data_request, structure_request

RELEASE = HERE / "releases" / "2026-06"
DATASET = "isoc_cicce_use"
LAST_UPDATE, UPDATE_DATA = "30/06/26 23:00:00", "2026-06-30T23:00:00+0200"
# The fixtures touch the article's E_CC rows only; the E_CC1_SI rows are the base's, restamped.
INDIC = "E_CC"
# (geo, year, size class) -> invented value; a revision of the base's cited figure
REVISED = {("DE", 2023, "10-49"): 44.1,   # 43.34 -> 44.1: +0.76 points
           ("DE", 2023, "GE10"): 46.2}    # 47 -> 46.2: -0.8 points, the largest
FLAGGED = {("DE", 2021, "GE250"): "b"}    # value kept (70.83), flag b (break in series) set
NEW = [("DE", 2025, "GE10", 51.2, "p")]   # a new year, provisional (flag p)
WITHDRAWN = {("EU27_2020", 2020, "50-249")}  # 45.66 no longer in the answer


def release_rows(ds) -> list[tuple]:
    """The base's rows with the fixtures applied, every row stamped LAST_UPDATE."""
    unit = next(iter(ds.units))
    rows = []
    for indic, row_unit, geo, year, _, size, value, *attrs in data_rows(ds):
        key = (geo, year, size) if indic == INDIC else None
        flag, conf = (*attrs, "", "")[:2]
        if key not in WITHDRAWN:
            rows.append((indic, row_unit, geo, year, LAST_UPDATE, size, REVISED.get(key, value),
                         FLAGGED.get(key, flag), conf))
    rows += [(INDIC, unit, geo, year, LAST_UPDATE, size, value, flag)
             for geo, year, size, value, flag in NEW]
    return rows


def main() -> None:
    shutil.rmtree(RELEASE, ignore_errors=True)
    RELEASE.mkdir(parents=True)
    (RELEASE / OVERLAY_FILE).write_text("../..\n", encoding="utf-8")
    cat = load_catalogue()
    source, ds = cat.sources["eurostat"], cat.dataset(DATASET)
    req = data_request(ds, source)
    add_recording(RELEASE, source="eurostat", dataset=ds.name, path=req.path,
                  query=list(req.query), body=sdmx_csv(ds.code, release_rows(ds)),
                  content_type=SDMX_CSV)
    req = structure_request(ds, source)
    add_recording(RELEASE, source="eurostat", dataset=ds.name, path=req.path,
                  query=list(req.query), content_type=STRUCTURE,
                  body=flow_structure_xml(ds.code.upper(), ds.title, structure_codes(ds.code),
                                          {"UPDATE_DATA": UPDATE_DATA},
                                          prepared="2026-07-01T00:00:00Z"))


if __name__ == "__main__":
    main()
