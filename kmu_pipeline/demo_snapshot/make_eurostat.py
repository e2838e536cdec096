"""Rebuild the Eurostat demo snapshot: `python -m kmu_pipeline.demo_snapshot.make_eurostat`.

Writes, in landing layout, the SDMX-CSV 1.0 answers Eurostat gives to the catalogue's data
queries and SDMX-ML 2.1 codelist answers, holding only published values, each cited in
README.md (row ids A*, E*). Requests are built by the same code as a live run, so the replay
server finds them. Re-run it after changing an Eurostat catalogue entry.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.replay import add_recording
from kmu_pipeline.sources.eurostat import SDMX_CSV, codelist_request, data_request

HERE = Path(__file__).parent
SIZES = ("0-9", "10-49", "50-249", "GE250", "10-249", "GE10")
A = "article"  # Destatis figure quoted in the article (../shared/seed), rounded to whole percent
E_CC, E_BD, E_SP = "27/02/26 23:00:00", "12/12/24 23:00:00", "10/02/25 23:00:00"

# (dataset, indicator code, geo, year, last update or A, values per SIZES; None = not published)
VALUES = [
    ("isoc_ciweb", "E_WEB", "DE", 2020, A, (59, 87, 93, None, None, None)),
    ("isoc_ci_it_en2", "E_IACC", "DE", 2020, A, (97, 99, None, None, None, None)),
    ("isoc_ci_it_en2", "E_FBROAD", "DE", 2020, A, (89, 95, 97, None, None, None)),
    ("isoc_ci_sp_en2", "E_FBSPSUF", "DE", 2020, A, (77, None, None, None, None, None)),
    ("isoc_ci_in_en2", "P_IUSE", "DE", 2020, A, (69, 57, 56, None, None, None)),
    ("isoc_eb_p3d", "E_3DP", "DE", 2020, A, (4, 6, 12, None, None, None)),
    ("isoc_ec_eseln2", "E_ESELL", "DE", 2020, A, (12, 18, 27, None, None, None)),
    ("isoc_ske_ittn2", "E_ITT2", "DE", 2020, A, (None, 18, 43, None, None, None)),
    ("isoc_cicce_use", "E_CC", "DE", 2018, E_CC, (None, 20.47, 27.16, 48.69, 21.56, 22.43)),
    ("isoc_cicce_use", "E_CC", "DE", 2020, E_CC, (None, 30.62, 41.18, 62.05, 32.35, 33.32)),
    ("isoc_cicce_use", "E_CC", "DE", 2021, E_CC, (None, 38.42, 51.77, 70.83, 40.61, 41.60)),
    ("isoc_cicce_use", "E_CC", "DE", 2023, E_CC, (None, 43.34, 59.43, 77.60, 45.97, 47.00)),
    ("isoc_cicce_use", "E_CC", "EU27_2020", 2020, E_CC, (None, None, 45.66, 64.94, None, 36.10)),
    ("isoc_cicce_use", "E_CC", "EU27_2020", 2021, E_CC, (None, None, 52.96, 71.59, None, 40.97)),
    ("isoc_eb_bd", "E_BDA", "DE", 2020, E_BD, (None, 16.25, 22.23, 35.81, 17.23, 17.83)),
    ("isoc_eb_bd", "E_BDA", "EU27_2020", 2020, E_BD, (None, 12.46, 20.62, 34.30, 13.64, 14.22)),
    ("isoc_ske_itspen2", "E_ITSP2", "DE", 2019, E_SP, (None, 11.95, 43.15, 77.02, 17.09, 19.05)),
    ("isoc_ske_itspen2", "E_ITSP2", "DE", 2020, E_SP, (None, 12.42, 42.98, 78.46, 17.43, 19.42)),
    ("isoc_ske_itspen2", "E_ITSP2", "DE", 2022, E_SP, (6.33, 15.07, 47.07, 78.95, 20.32, 22.23)),
    ("isoc_ske_itspen2", "E_ITSP2", "EU27_2020", 2020, E_SP,
     (None, 13.57, 41.52, 76.06, 17.62, 19.27)),
]

CODELISTS = {
    "GEO": [("DE", "Germany", "Deutschland"),
            ("EU27_2020", "European Union - 27 countries (from 2020)",
             "Europäische Union - 27 Länder (ab 2020)")],
    "SIZE_EMP": [("0-9", "From 0 to 9 persons employed", "0 bis 9 Beschäftigte"),
                 ("10-49", "From 10 to 49 persons employed", "10 bis 49 Beschäftigte"),
                 ("50-249", "From 50 to 249 persons employed", "50 bis 249 Beschäftigte"),
                 ("GE250", "250 persons employed or more", "250 Beschäftigte und mehr"),
                 ("10-249", "From 10 to 249 persons employed", "10 bis 249 Beschäftigte"),
                 ("GE10", "10 persons employed or more", "10 Beschäftigte und mehr")],
    "UNIT": [("PC_ENT", "Percentage of enterprises", "Prozentsatz der Unternehmen"),
             ("PC_EMP", "Percentage of persons employed", "Prozentsatz der Beschäftigten")],
}


def sdmx_csv(dataset_name: str, rows: list[tuple]) -> bytes:
    """An SDMX-CSV 1.0 body with Eurostat's column order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["DATAFLOW", "LAST UPDATE", "freq", "size_emp", "nace_r2", "indic_is", "unit",
                     "geo", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"])
    flow = f"ESTAT:{dataset_name.upper()}(1.0)"
    for indic, unit, geo, year, updated, size, value in rows:
        writer.writerow([flow, "" if updated == A else updated, "A", size, "C10-S951_X_K", indic,
                         unit, geo, year, f"{value:g}", "", ""])
    return out.getvalue().encode()


def codelist_xml(cl_id: str, codes: list[tuple[str, str, str]]) -> bytes:
    items = "".join(
        f'<s:Code id="{c}" urn="urn:sdmx:org.sdmx.infomodel.codelist.Code=ESTAT:{cl_id}(1.0).{c}">'
        f'<c:Name xml:lang="en">{en}</c:Name><c:Name xml:lang="de">{de}</c:Name></s:Code>'
        for c, en, de in codes
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<m:Structure xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
        'xmlns:s="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure" '
        'xmlns:c="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">'
        '<m:Header><m:ID>KMUDEMO</m:ID><m:Test>false</m:Test>'
        '<m:Prepared>2026-11-24T00:00:00Z</m:Prepared><m:Sender id="ESTAT"/></m:Header>'
        f'<m:Structures><s:Codelists><s:Codelist agencyID="ESTAT" id="{cl_id}" '
        f'urn="urn:sdmx:org.sdmx.infomodel.codelist.Codelist=ESTAT:{cl_id}(1.0)" version="1.0">'
        f'<c:Name xml:lang="en">{cl_id}</c:Name>{items}</s:Codelist></s:Codelists>'
        '</m:Structures></m:Structure>\n'
    ).encode()


def indic_codelist() -> list[tuple[str, str, str]]:
    cat = load_catalogue()
    titles = {}
    for ds in cat.of_source("eurostat"):
        for code, name in ds.indicators.items():
            titles[code] = (code, name.replace("_", " "), name.replace("_", " "))
    return sorted(titles.values())


def main() -> None:
    root = HERE / "eurostat"
    shutil.rmtree(root, ignore_errors=True)
    cat = load_catalogue()
    source = cat.sources["eurostat"]
    for ds in cat.of_source("eurostat"):
        unit = next(iter(ds.units))
        rows = [(indic, unit, geo, year, upd, size, v)
                for name, indic, geo, year, upd, values in VALUES if name == ds.name
                for size, v in zip(SIZES, values, strict=True) if v is not None]
        req = data_request(ds, source)
        add_recording(HERE, source="eurostat", dataset=ds.name, path=req.path,
                      query=list(req.query), body=sdmx_csv(ds.code, rows), content_type=SDMX_CSV)
    for cl_id in source.options["codelists"]:
        codes = indic_codelist() if cl_id == "INDIC_IS" else CODELISTS[cl_id]
        req = codelist_request(cl_id, source)
        add_recording(HERE, source="eurostat", dataset=req.dataset, path=req.path,
                      body=codelist_xml(cl_id, codes), content_type="application/xml")


if __name__ == "__main__":
    main()
