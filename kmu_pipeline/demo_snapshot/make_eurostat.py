"""Rebuild the Eurostat demo snapshot: `python -m kmu_pipeline.demo_snapshot.make_eurostat`.

Writes, in landing layout, the SDMX-CSV 1.0 answers Eurostat gives to the catalogue's data
queries, the SDMX-ML 2.1 structure answers of the flows (eurostat_structure.py) and codelist
answers, holding only values read from Eurostat's own downloads, each cited in README.md.
Requests are built by the same code as a live run, so the replay
server finds them. Re-run it after changing an Eurostat catalogue entry.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.demo_snapshot.eurostat_structure import flow_structure_xml
from kmu_pipeline.replay import add_recording
from kmu_pipeline.sources.eurostat import (
    SDMX_CSV,
    STRUCTURE,
    codelist_request,
    data_request,
    structure_request,
)

HERE = Path(__file__).parent
SIZES = ("0-9", "10-49", "50-249", "GE250", "10-249", "GE10")
E_CC, E_BD, E_SP = "27/02/26 23:00:00", "12/12/24 23:00:00", "10/02/25 23:00:00"
E_P3, E_RC = "17/07/25 11:00:00", "17/07/25 11:00:00"

# (dataset, indicator code, geo, year, LAST UPDATE, values per SIZES; None = not in the demo).
# Only values read from Eurostat's own SDMX-CSV downloads, each cited in README.md (rows E*).
VALUES = [
    ("isoc_cicce_use", "E_CC", "DE", 2018, E_CC, (None, 20.47, 27.16, 48.69, 21.56, 22.43)),
    ("isoc_cicce_use", "E_CC", "DE", 2020, E_CC, (None, 30.62, 41.18, 62.05, 32.35, 33.32)),
    ("isoc_cicce_use", "E_CC", "DE", 2021, E_CC, (None, 38.42, 51.77, 70.83, 40.61, 41.60)),
    ("isoc_cicce_use", "E_CC", "DE", 2023, E_CC, (None, 43.34, 59.43, 77.60, 45.97, 47.00)),
    ("isoc_cicce_use", "E_CC", "EU27_2020", 2020, E_CC, (None, None, 45.66, 64.94, None, 36.10)),
    ("isoc_cicce_use", "E_CC", "EU27_2020", 2021, E_CC, (None, None, 52.96, 71.59, None, 40.97)),
    ("isoc_eb_bd", "E_BDA", "DE", 2020, E_BD, (None, 16.25, 22.23, 35.81, 17.23, 17.83)),
    ("isoc_eb_bd", "E_BDA", "EU27_2020", 2020, E_BD, (None, 12.46, 20.62, 34.30, 13.64, 14.22)),
    ("isoc_eb_p3d", "E_P3D", "DE", 2018, E_P3, (2.99, 3.71, 8.57, 18.15, 4.50, 4.94)),
    ("isoc_eb_p3d", "E_P3D", "DE", 2020, E_P3, (None, 5.88, 11.55, 23.20, 6.81, 7.35)),
    ("isoc_ske_itspe", "E_ITSP2", "DE", 2019, E_SP, (None, 11.95, 43.15, 77.02, 17.09, 19.05)),
    ("isoc_ske_itspe", "E_ITSP2", "DE", 2020, E_SP, (None, 12.42, 42.98, 78.46, 17.43, 19.42)),
    ("isoc_ske_itspe", "E_ITSP2", "DE", 2022, E_SP, (6.33, 15.07, 47.07, 78.95, 20.32, 22.23)),
    ("isoc_ske_itspe", "E_ITSP2", "EU27_2020", 2020, E_SP,
     (None, 13.57, 41.52, 76.06, 17.62, 19.27)),
    ("isoc_ske_itrcrs", "E_ITSPRCR2", "ES", 2017, E_RC, (1.46, None, None, None, None, None)),
    ("isoc_ske_itrcrs", "E_ITSPVAC2", "ES", 2017, E_RC, (0.28, None, None, None, None, None)),
]

# The structure answers' codes per flow, kept apart from the catalogue so that the demo refuses
# a code the catalogue gets wrong: indic_is and unit codes as seen in the downloads cited in
# README.md ("Structures"); size classes as seen there, and ASSUMED (README) where no cited
# download shows them for the flow.
INDIC_IS = {
    "isoc_ciweb": ("E_WEB",),
    "isoc_cicce_use": ("E_CC",),
    "isoc_eb_bd": ("E_BDA",),
    "isoc_eb_p3d": ("E_P3D", "E_P3D_ANY", "E_P3D_NONE", "E_P3D_PGPP", "E_P3D_PGS", "E_P3D_PPMI",
                    "E_P3D_PPMS", "E_P3D_OWN", "E_P3D_OTH", "E_P3D1_OWN", "E_P3D1_OTH", "E_RBT",
                    "E_RBTI", "E_RBTS"),
    "isoc_ec_esels": ("E_ESELL", "E_AESELL", "E_AWSELL"),
    "isoc_ske_itspe": ("E_ITSP2",),
    "isoc_ske_itrcrs": ("E_ITSP2_OR_RCR2", "E_ITSP2_VAC2", "E_ITSPDLA", "E_ITSPDLET",
                        "E_ITSPDLWE", "E_ITSPDSAL", "E_ITSPRCR2", "E_ITSPVAC2"),
    "isoc_ske_itts": ("E_ITT2", "E_ITSPT2", "E_ITUST2"),
}
UNITS = {
    "isoc_cicce_use": ("PC_ENT", "PC_ENT_CC", "PC_ENT_CUSE", "PC_ENT_IUSE", "PC_ENT_IACC"),
    "isoc_eb_p3d": ("PC_ENT", "PC_ENT_CUSE", "PC_ENT_P3D"),
    "isoc_ske_itrcrs": ("PC_ENT", "PC_ENT_CUSE", "PC_ENT_ITSPRCR2"),
}
EXTRA_SIZES = {"isoc_cicce_use": ("0_1", "1-4", "1-9", "2-9", "5-9"),
               "isoc_eb_p3d": ("0_1", "2-9")}
UPDATED = {"isoc_cicce_use": "2026-02-27T23:00:00+0100", "isoc_eb_bd": "2024-12-12T23:00:00+0100",
           "isoc_eb_p3d": "2025-07-17T11:00:00+0200", "isoc_ske_itspe": "2025-02-10T23:00:00+0100",
           "isoc_ske_itrcrs": "2025-07-17T11:00:00+0200"}
GEO_NAMES = {"DE": "Germany", "EU27_2020": "European Union - 27 countries (from 2020)",
             "ES": "Spain"}

CODELISTS = {
    "GEO": [("DE", "Germany", "Deutschland"),
            ("EU27_2020", "European Union - 27 countries (from 2020)",
             "Europäische Union - 27 Länder (ab 2020)"),
            ("ES", "Spain", "Spanien")],
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
        writer.writerow([flow, updated, "A", size, "C10-S951_X_K", indic,
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


def structure_codes(name: str) -> dict[str, list[tuple[str, str]]]:
    """The codes of the demo's structure answer for one flow, in the key order."""
    geos = sorted({geo for flow, _, geo, *_ in VALUES if flow == name} | {"DE"})
    labels = {c: en for c, en, _ in [*CODELISTS["SIZE_EMP"], *CODELISTS["UNIT"]]}
    return {
        "freq": [("A", "Annual")],
        "size_emp": [(code, labels.get(code, code))
                     for code in (*SIZES, *EXTRA_SIZES.get(name, ()))],
        "nace_r2": [("C10-S951_X_K", "All activities (except agriculture, mining, financial "
                                     "sector), 10 persons employed or more")],
        "indic_is": [(code, code) for code in INDIC_IS[name]],
        "unit": [(code, labels.get(code, code)) for code in UNITS.get(name, ("PC_ENT",))],
        "geo": [(geo, GEO_NAMES[geo]) for geo in geos],
    }


def main() -> None:
    root = HERE / "eurostat"
    shutil.rmtree(root, ignore_errors=True)
    cat = load_catalogue()
    source = cat.sources["eurostat"]
    for ds in cat.of_source("eurostat"):
        rows = [(indic, next(iter(ds.units)), geo, year, upd, size, v)
                for name, indic, geo, year, upd, values in VALUES if name == ds.name
                for size, v in zip(SIZES, values, strict=True) if v is not None]
        req = data_request(ds, source)
        add_recording(HERE, source="eurostat", dataset=ds.name, path=req.path,
                      query=list(req.query), body=sdmx_csv(ds.code, rows), content_type=SDMX_CSV)
        annotations = {"UPDATE_DATA": UPDATED[ds.name]} if ds.name in UPDATED else {}
        req = structure_request(ds, source)
        add_recording(HERE, source="eurostat", dataset=ds.name, path=req.path,
                      query=list(req.query), content_type=STRUCTURE,
                      body=flow_structure_xml(ds.code.upper(), ds.title, structure_codes(ds.code),
                                              annotations, prepared="2026-11-24T00:00:00Z"))
    labels = cat.dataset("codelists")
    for cl_id in labels.codelists:
        codes = indic_codelist() if cl_id == "INDIC_IS" else CODELISTS[cl_id]
        req = codelist_request(cl_id, source, labels.name)
        add_recording(HERE, source="eurostat", dataset=req.dataset, path=req.path,
                      body=codelist_xml(cl_id, codes), content_type="application/xml")


if __name__ == "__main__":
    main()
