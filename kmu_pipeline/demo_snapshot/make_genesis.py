"""Rebuild the GENESIS demo snapshot: `python -m kmu_pipeline.demo_snapshot.make_genesis`.

Writes, in landing layout, the answers GENESIS-Online gives to the catalogue's requests: the
metadata/table JSON and the data/tablefile ffcsv ZIP (one `;`-separated UTF-8 file with BOM,
decimal comma, the column layout of the real 52111-0001 answer in
../shared/reference/destatis/pystatis-extracted/). No 52911 answer was ever recorded, so these
files are written by the project; their values are the Destatis 2020 figures quoted in the
article (README.md, rows D*), their variable codes the catalogue's assumed ones.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

from kmu_pipeline.catalogue import Dataset, load_catalogue
from kmu_pipeline.replay import add_recording
from kmu_pipeline.sources.genesis import metadata_request, table_request, values_request

HERE = Path(__file__).parent
HEADER = ("statistics_code;statistics_label;time_code;time_label;time;1_variable_code;"
          "1_variable_label;1_variable_attribute_code;1_variable_attribute_label;"
          "2_variable_code;2_variable_label;2_variable_attribute_code;2_variable_attribute_label;"
          "3_variable_code;3_variable_label;3_variable_attribute_code;3_variable_attribute_label;"
          "value;value_unit;value_variable_code;value_variable_label;value_q")
STATISTIC = "52911;Nutzung v.Informations-u.Kommunikationstech.i.Unt."
SIZES = {"0-9": ("BES0000B0010", "0 bis 9 Beschäftigte"),
         "10-49": ("BES0010B0050", "10 bis 49 Beschäftigte"),
         "50-249": ("BES0050B0250", "50 bis 249 Beschäftigte"),
         "0-249": ("BES0000B0250", "0 bis 249 Beschäftigte")}
UNITS = {"UNT036": "Anteil der Unternehmen", "BES017": "Anteil der Beschäftigten",
         "UNT037": "Anteil der Unternehmen mit Einstellungsversuch"}
# (indicator code, label, value variable, {size: value}); "." = no value (GENESIS sign).
# Destatis 2020 as quoted in the article (../shared/seed/000_4caa965f7d6daa3e.txt), whole percent.
IKT_2020 = [
    ("IKTWEB", "Unternehmen mit Website", "UNT036", {"0-9": 59, "10-49": 87, "50-249": 93}),
    ("IKTBESINT", "Beschäftigte mit Internetzugang", "BES017",
     {"0-9": 69, "10-49": 57, "50-249": 56}),
    ("IKTCLOUD", "Nutzung von Cloud Computing", "UNT036", {"10-49": 31, "50-249": 41}),
    ("IKTBIGD", "Big-Data-Analyse", "UNT036", {"0-9": ".", "10-49": 15, "50-249": 21}),
    ("IKT3DDR", "Nutzung von 3D-Druck", "UNT036", {"0-9": 4, "10-49": 6, "50-249": 12}),
    ("IKTECOM", "E-Commerce-Verkäufe", "UNT036", {"0-9": 12, "10-49": 18, "50-249": 27}),
    ("IKTIZUG", "Unternehmen mit Internetzugang", "UNT036", {"0-9": 97, "10-49": 99}),
    ("IKTBREIT", "Feste Breitbandverbindung", "UNT036", {"0-9": 89, "10-49": 95, "50-249": 97}),
    ("IKTBRGES", "Geschwindigkeit der festen Breitbandverbindung ausreichend", "UNT036",
     {"0-9": 77}),
    ("IKTFACHK", "Beschäftigung von IKT-Fachkräften", "UNT036", {"10-49": 12, "50-249": 43}),
    ("IKTSTELL", "Schwer zu besetzende Stellen für IKT-Fachkräfte", "UNT037", {"0-249": 65}),
    ("IKTWEITB", "IKT-Weiterbildung", "UNT036", {"10-49": 18, "50-249": 43}),
]


def ffcsv_zip(member: str, rows: list[str]) -> bytes:
    """An ffcsv answer: a ZIP with one BOM-prefixed, `;`-separated file, CRLF-free like GENESIS."""
    text = "\ufeff" + "\n".join([HEADER, *rows]) + "\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # a fixed member time: the same rows always give the same bytes (and the same sha256)
        info = zipfile.ZipInfo(member, date_time=(2021, 4, 15, 10, 0, 0))
        archive.writestr(info, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def ikt_rows(year: int) -> list[str]:
    rows = []
    for code, label, unit, values in IKT_2020:
        for size, value in values.items():
            size_code, size_label = SIZES[size]
            cell = value if isinstance(value, str) else f"{value:g}".replace(".", ",")
            quality = "e" if isinstance(value, int) else ""
            rows.append(f"{STATISTIC};JAHR;Jahr;{year};DINSG;Deutschland insgesamt;DG;"
                        f"Deutschland;IKTNU1;Nutzung von IKT;{code};{label};BESGK1;"
                        f"Beschäftigtengrößenklassen;{size_code};{size_label};{cell};Prozent;"
                        f"{unit};{UNITS[unit]};{quality}")
    return rows


def _variable(code: str, label: str, children: list | None = None) -> dict:
    return {"Code": code, "Content": label, "Type": "Merkmal", "Values": None, "Selected": None,
            "Functions": None, "Structure": children, "Updated": "see parent"}


# The table layout of metadata/table, as in the real 52111-0001 answer recorded in
# ../shared/reference/destatis/pystatis-extracted/52111-0001/02_metadata_table_de.json: the
# statistic as Head with Germany and the value variables below it, the classifying variables as
# Columns and Rows, the year as Subtitel. Variable codes: the catalogue's (52911 ASSUMED).
LAYOUT = {
    "52911-0003": (STATISTIC, [("BESGK1", "Beschäftigtengrößenklassen")],
                   [("IKTNU1", "Nutzung von IKT")], UNITS),
    "52911-0001": (STATISTIC, [], [("IKTNU1", "Nutzung von IKT")], UNITS),
    "52111-0001": ("52111;Unternehmensregister-System (URS)",
                   [("BESG12", "Beschäftigtengrößenklassen")],
                   [("WZ08U6", "WZ2008 (Abschnitte): URS")], {"UNT002": "Unternehmen (EU)"}),
}


def metadata_json(dataset: Dataset, updated: str) -> bytes:
    """metadata/table as the service answers it (credentials echoed masked)."""
    statistic, columns, rows, values = LAYOUT[dataset.code]
    code, label = statistic.split(";")
    germany = _variable("DINSG", "Deutschland insgesamt",
                        [_variable(c, text) for c, text in values.items()])
    structure = {
        "Head": {"Code": code, "Content": label, "Type": "Statistik", "Values": None,
                 "Selected": None, "Functions": None, "Structure": [germany],
                 "Updated": "see parent"},
        "Columns": [_variable(c, text) for c, text in columns],
        "Rows": [_variable(c, text) for c, text in rows],
        "Subtitel": _variable("JAHR", "Jahr"), "Subheading": None,
    }
    return json.dumps({
        "Ident": {"Service": "metadata", "Method": "table"},
        "Status": {"Code": 0, "Content": "erfolgreich", "Type": "Information"},
        "Parameter": {"username": "********************", "password": "********************",
                      "name": dataset.code, "area": "Alle", "language": "de"},
        "Object": {"Code": dataset.code, "Content": dataset.title,
                   "Time": {"From": "2015", "To": "2020"}, "Valid": "false",
                   "Structure": structure, "Updated": updated},
        "Copyright": "© Statistisches Bundesamt (Destatis), 2026",
    }, ensure_ascii=False, separators=(",", ":")).encode()


def values_json(variable: str, values: dict[str, str]) -> bytes:
    """catalogue/values2variable as the service answers it (the recorded restatis answer in
    ../shared/reference/destatis/restatis-httptest-fixtures/values2/: Status 22, List items
    Code/Content/Variables/Information, all strings)."""
    return json.dumps({
        "Ident": {"Service": "catalogue", "Method": "values2variable"},
        "Status": {"Code": 22, "Content": "erfolgreich (Mindestens ein Parameter enthält "
                   "ungültige Werte. Er wurde angepasst, um den Service starten zu können.: "
                   "sortcriterion)", "Type": "Warnung"},
        "Parameter": {"username": "********************", "password": "********************",
                      "name": variable, "selection": "", "area": "Alle",
                      "searchcriterion": "Code", "sortcriterion": "Code", "pagelength": "500",
                      "language": "de"},
        "List": [{"Code": code, "Content": label, "Variables": "1", "Information": "false"}
                 for code, label in values.items()],
        "Copyright": "© Statistisches Bundesamt (Destatis), 2026",
    }, ensure_ascii=False, separators=(",", ":")).encode()


# The attribute codes the demo's values2variable answers list: those of its table files (52911:
# the catalogue's assumed codes, written by the project; 52111: BESG12 as in the real answer).
VALUES = {
    "IKTNU1": {code: label for code, label, _, _ in IKT_2020},
    "BESGK1": {**dict(SIZES.values()), "BES0250UM": "250 und mehr Beschäftigte"},
    "BESG12": {"BESAB0000B0010": "0 bis unter 10 abhängig Beschäftigte",
               "BESAB0010B0050": "10 bis unter 50 abhängig Beschäftigte",
               "BESAB0050B0250": "50 bis unter 250 abhängig Beschäftigte",
               "BESAB0250UM": "250 und mehr abhängig Beschäftigte"},
}


def record(dataset: Dataset, rows: list[str], stamp: str) -> None:
    meta = metadata_request(dataset)
    add_recording(HERE, source="genesis", dataset=dataset.name, path=meta.path,
                  form=list(meta.form), method="POST", body=metadata_json(dataset, stamp),
                  content_type="application/json;charset=UTF-8")
    for variable in {v for v, _ in [*LAYOUT[dataset.code][1], *LAYOUT[dataset.code][2]]}:
        if variable in VALUES:
            request = values_request(dataset, variable)
            add_recording(HERE, source="genesis", dataset=dataset.name, path=request.path,
                          form=list(request.form), method="POST",
                          body=values_json(variable, VALUES[variable]),
                          content_type="application/json;charset=UTF-8")
    table = table_request(dataset)
    member = f"{dataset.code}_1700000000000_de_flat"
    add_recording(HERE, source="genesis", dataset=dataset.name, path=table.path,
                  form=list(table.form), method="POST", body=ffcsv_zip(f"{member}.csv", rows),
                  content_type="application/zip",
                  headers={"content-disposition": f"attachment; filename={member}.zip"})


def main() -> None:
    shutil.rmtree(HERE / "genesis", ignore_errors=True)
    catalogue = load_catalogue()
    # 52911-0003: the article's figures. 52911-0001 and 52111-0001: the article quotes no
    # Germany-total ICT figure and no register count, so their demo tables hold no values.
    record(catalogue.dataset("ikt_by_size"), ikt_rows(2020), "15.04.2021 10:00:00h")
    record(catalogue.dataset("ikt_germany"), [], "15.04.2021 10:00:00h")
    record(catalogue.dataset("unternehmensregister"), [], "28.12.2022 17:12:43h")


if __name__ == "__main__":
    main()
