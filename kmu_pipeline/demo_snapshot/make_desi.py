"""Rebuild the DESI demo answer: `python -m kmu_pipeline.demo_snapshot.make_desi [CSV]`.

Writes, in landing layout, the DESI CSV download as the Digital Scoreboard serves it (same
columns, quoting and observation URIs), holding only the DESI 2020 values the demo needs for
Abb. 1 and the integration check: the five dimension scores, their weighted contributions, the
seven raw indicators of dimension 4 and their weighted contributions, EU28 countries and EU,
edition 2020. The values are the European Commission's published DESI 2020 figures, read from
the DESI 2020 download (default: ../shared/reference/desi/, see README.md, row X1).
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.replay import add_recording
from kmu_pipeline.sources.desi import download_request

HERE = Path(__file__).parent
DEFAULT = (HERE.parents[1] / ".." / "shared" / "reference" / "desi" /
           "DESI_2020_edition_digital-agenda-data_mett29-DataViz.csv")
RAW_4 = {"desi_4a1_eis", "desi_4a2_socmed", "desi_4a3_bigdat", "desi_4a4_cloud",
         "desi_4b1_smeso", "desi_4b2_ecomturn", "desi_4b3_sellcb"}
KEEP_INDICATORS = {"desi_sliders", "desi", "desi_4a_bd", "desi_4b_ecomm", *RAW_4}


def demo_rows(source: Path) -> bytes:
    """The header and the kept lines of `source`, byte for byte (quoting included)."""
    lines = source.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    kept = [line for line in lines[1:]
            if (row := next(csv.reader([line])))[1] == "2020" and row[3] in KEEP_INDICATORS]
    return "".join([lines[0], *kept]).encode()


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    shutil.rmtree(HERE / "desi", ignore_errors=True)
    request = download_request(load_catalogue().dataset("desi"))
    add_recording(HERE, source="desi", dataset=request.dataset, path=request.path,
                  body=demo_rows(source), content_type="text/csv")


if __name__ == "__main__":
    main()
