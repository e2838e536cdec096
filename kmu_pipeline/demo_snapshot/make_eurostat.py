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
# The Digital Decade rows (isoc_e_dii flagged and 0-9 cells, isoc_eb_ai E_AI_TANY, isoc_eb_das
# E_DA, isoc_cicce_use E_CC1_SI), one line per observation as printed in the download cited in
# README.md; every row of those four downloads carries LAST UPDATE 27/02/26 11:00:00 (E_DI).
# The E_CC rows in VALUES keep the 23:00:00 stamp the demo gave them before (README.md).
ROWS_FILE = HERE / "eurostat_rows.csv"
SIZES = ("0-9", "10-49", "50-249", "GE250", "10-249", "GE10")
E_CC, E_BD, E_SP = "27/02/26 23:00:00", "12/12/24 23:00:00", "10/02/25 23:00:00"
E_P3, E_RC = "17/07/25 11:00:00", "17/07/25 11:00:00"
E_DI = "27/02/26 11:00:00"

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
    # isoc_e_dii: 10-49 and 10-249 of every member state and EU27_2020 (README.md, isoc_e_dii); the
    # download's flagged cells (EE 2025 d; FR 2022, FR 2023, SE 2023, SE 2024 b) and 0-9 are in
    # ROWS_FILE with their flags
    ("isoc_e_dii", "E_DI3_GELO", "AT", 2021, E_DI, (None, 61.35, None, None, 64.43, None)),
    ("isoc_e_dii", "E_DI4_GELO", "AT", 2022, E_DI, (None, 63.78, None, None, 67.32, None)),
    ("isoc_e_dii", "E_DI3_GELO", "AT", 2023, E_DI, (None, 54.53, None, None, 57.93, None)),
    ("isoc_e_dii", "E_DI4_GELO", "AT", 2024, E_DI, (None, 69.21, None, None, 72.22, None)),
    ("isoc_e_dii", "E_DI3_GELO", "AT", 2025, E_DI, (None, 70.45, None, None, 72.99, None)),
    ("isoc_e_dii", "E_DI3_GELO", "BE", 2021, E_DI, (None, 62.90, None, None, 65.35, None)),
    ("isoc_e_dii", "E_DI4_GELO", "BE", 2022, E_DI, (None, 74.55, None, None, 77.23, None)),
    ("isoc_e_dii", "E_DI3_GELO", "BE", 2023, E_DI, (None, 71.63, None, None, 74.46, None)),
    ("isoc_e_dii", "E_DI4_GELO", "BE", 2024, E_DI, (None, 81.61, None, None, 83.70, None)),
    ("isoc_e_dii", "E_DI3_GELO", "BE", 2025, E_DI, (None, 82.65, None, None, 84.35, None)),
    ("isoc_e_dii", "E_DI3_GELO", "BG", 2021, E_DI, (None, 22.52, None, None, 25.24, None)),
    ("isoc_e_dii", "E_DI4_GELO", "BG", 2022, E_DI, (None, 43.67, None, None, 47.18, None)),
    ("isoc_e_dii", "E_DI3_GELO", "BG", 2023, E_DI, (None, 25.51, None, None, 28.41, None)),
    ("isoc_e_dii", "E_DI4_GELO", "BG", 2024, E_DI, (None, 46.45, None, None, 49.93, None)),
    ("isoc_e_dii", "E_DI3_GELO", "BG", 2025, E_DI, (None, 35.24, None, None, 38.33, None)),
    ("isoc_e_dii", "E_DI3_GELO", "CY", 2021, E_DI, (None, 63.65, None, None, 66.22, None)),
    ("isoc_e_dii", "E_DI4_GELO", "CY", 2022, E_DI, (None, 67.22, None, None, 70.05, None)),
    ("isoc_e_dii", "E_DI3_GELO", "CY", 2023, E_DI, (None, 64.47, None, None, 67.28, None)),
    ("isoc_e_dii", "E_DI4_GELO", "CY", 2024, E_DI, (None, 71.66, None, None, 74.29, None)),
    ("isoc_e_dii", "E_DI3_GELO", "CY", 2025, E_DI, (None, 71.99, None, None, 74.35, None)),
    ("isoc_e_dii", "E_DI3_GELO", "CZ", 2021, E_DI, (None, 49.55, None, None, 52.54, None)),
    ("isoc_e_dii", "E_DI4_GELO", "CZ", 2022, E_DI, (None, 63.68, None, None, 68.02, None)),
    ("isoc_e_dii", "E_DI3_GELO", "CZ", 2023, E_DI, (None, 45.83, None, None, 49.30, None)),
    ("isoc_e_dii", "E_DI4_GELO", "CZ", 2024, E_DI, (None, 67.40, None, None, 70.81, None)),
    ("isoc_e_dii", "E_DI3_GELO", "CZ", 2025, E_DI, (None, 66.95, None, None, 70.46, None)),
    ("isoc_e_dii", "E_DI3_GELO", "DE", 2021, E_DI, (None, 55.26, None, None, 58.89, None)),
    ("isoc_e_dii", "E_DI4_GELO", "DE", 2022, E_DI, (None, 74.23, None, None, 77.35, None)),
    ("isoc_e_dii", "E_DI3_GELO", "DE", 2023, E_DI, (None, 57.74, None, None, 61.38, None)),
    ("isoc_e_dii", "E_DI4_GELO", "DE", 2024, E_DI, (None, 77.12, None, None, 79.87, None)),
    ("isoc_e_dii", "E_DI3_GELO", "DE", 2025, E_DI, (None, 70.99, None, None, 73.55, None)),
    ("isoc_e_dii", "E_DI3_GELO", "DK", 2021, E_DI, (None, 76.84, None, None, 79.38, None)),
    ("isoc_e_dii", "E_DI4_GELO", "DK", 2022, E_DI, (None, 86.82, None, None, 88.80, None)),
    ("isoc_e_dii", "E_DI3_GELO", "DK", 2023, E_DI, (None, 72.55, None, None, 75.33, None)),
    ("isoc_e_dii", "E_DI4_GELO", "DK", 2024, E_DI, (None, 88.88, None, None, 90.47, None)),
    ("isoc_e_dii", "E_DI3_GELO", "DK", 2025, E_DI, (None, 91.48, None, None, 92.45, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EE", 2021, E_DI, (None, 50.97, None, None, 54.00, None)),
    ("isoc_e_dii", "E_DI4_GELO", "EE", 2022, E_DI, (None, 63.21, None, None, 66.95, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EE", 2023, E_DI, (None, 52.29, None, None, 55.93, None)),
    ("isoc_e_dii", "E_DI4_GELO", "EE", 2024, E_DI, (None, 67.59, None, None, 71.20, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EL", 2021, E_DI, (None, 35.17, None, None, 37.66, None)),
    ("isoc_e_dii", "E_DI4_GELO", "EL", 2022, E_DI, (None, 37.44, None, None, 41.21, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EL", 2023, E_DI, (None, 40.80, None, None, 43.26, None)),
    ("isoc_e_dii", "E_DI4_GELO", "EL", 2024, E_DI, (None, 49.98, None, None, 53.42, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EL", 2025, E_DI, (None, 53.28, None, None, 55.95, None)),
    ("isoc_e_dii", "E_DI3_GELO", "ES", 2021, E_DI, (None, 57.12, None, None, 59.68, None)),
    ("isoc_e_dii", "E_DI4_GELO", "ES", 2022, E_DI, (None, 64.51, None, None, 67.52, None)),
    ("isoc_e_dii", "E_DI3_GELO", "ES", 2023, E_DI, (None, 57.44, None, None, 60.53, None)),
    ("isoc_e_dii", "E_DI4_GELO", "ES", 2024, E_DI, (None, 71.79, None, None, 74.15, None)),
    ("isoc_e_dii", "E_DI3_GELO", "ES", 2025, E_DI, (None, 72.89, None, None, 75.35, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EU27_2020", 2021, E_DI, (None, 51.79, None, None, 54.82, None)),
    ("isoc_e_dii", "E_DI4_GELO", "EU27_2020", 2022, E_DI, (None, 65.79, None, None, 69.00, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EU27_2020", 2023, E_DI, (None, 54.78, None, None, 57.90, None)),
    ("isoc_e_dii", "E_DI4_GELO", "EU27_2020", 2024, E_DI, (None, 70.07, None, None, 72.91, None)),
    ("isoc_e_dii", "E_DI3_GELO", "EU27_2020", 2025, E_DI, (None, 68.85, None, None, 71.39, None)),
    ("isoc_e_dii", "E_DI3_GELO", "FI", 2021, E_DI, (None, 79.39, None, None, 81.64, None)),
    ("isoc_e_dii", "E_DI4_GELO", "FI", 2022, E_DI, (None, 87.86, None, None, 89.49, None)),
    ("isoc_e_dii", "E_DI3_GELO", "FI", 2023, E_DI, (None, 83.48, None, None, 85.59, None)),
    ("isoc_e_dii", "E_DI4_GELO", "FI", 2024, E_DI, (None, 91.34, None, None, 92.51, None)),
    ("isoc_e_dii", "E_DI3_GELO", "FI", 2025, E_DI, (None, 93.08, None, None, 94.04, None)),
    ("isoc_e_dii", "E_DI3_GELO", "FR", 2021, E_DI, (None, 43.43, None, None, 46.99, None)),
    ("isoc_e_dii", "E_DI4_GELO", "FR", 2024, E_DI, (None, 65.70, None, None, 68.45, None)),
    ("isoc_e_dii", "E_DI3_GELO", "FR", 2025, E_DI, (None, 66.37, None, None, 69.44, None)),
    ("isoc_e_dii", "E_DI3_GELO", "HR", 2021, E_DI, (None, 47.05, None, None, 49.66, None)),
    ("isoc_e_dii", "E_DI4_GELO", "HR", 2022, E_DI, (None, 53.89, None, None, 57.79, None)),
    ("isoc_e_dii", "E_DI3_GELO", "HR", 2023, E_DI, (None, 53.41, None, None, 55.97, None)),
    ("isoc_e_dii", "E_DI4_GELO", "HR", 2024, E_DI, (None, 60.29, None, None, 63.45, None)),
    ("isoc_e_dii", "E_DI3_GELO", "HR", 2025, E_DI, (None, 52.93, None, None, 57.09, None)),
    ("isoc_e_dii", "E_DI3_GELO", "HU", 2021, E_DI, (None, 31.51, None, None, 34.47, None)),
    ("isoc_e_dii", "E_DI4_GELO", "HU", 2022, E_DI, (None, 47.56, None, None, 51.73, None)),
    ("isoc_e_dii", "E_DI3_GELO", "HU", 2023, E_DI, (None, 50.27, None, None, 53.16, None)),
    ("isoc_e_dii", "E_DI4_GELO", "HU", 2024, E_DI, (None, 53.85, None, None, 57.44, None)),
    ("isoc_e_dii", "E_DI3_GELO", "HU", 2025, E_DI, (None, 56.78, None, None, 59.81, None)),
    ("isoc_e_dii", "E_DI3_GELO", "IE", 2021, E_DI, (None, 60.75, None, None, 64.19, None)),
    ("isoc_e_dii", "E_DI4_GELO", "IE", 2022, E_DI, (None, 70.68, None, None, 74.05, None)),
    ("isoc_e_dii", "E_DI3_GELO", "IE", 2023, E_DI, (None, 62.53, None, None, 66.11, None)),
    ("isoc_e_dii", "E_DI4_GELO", "IE", 2024, E_DI, (None, 69.86, None, None, 73.38, None)),
    ("isoc_e_dii", "E_DI3_GELO", "IE", 2025, E_DI, (None, 77.27, None, None, 79.30, None)),
    ("isoc_e_dii", "E_DI3_GELO", "IT", 2021, E_DI, (None, 58.38, None, None, 60.31, None)),
    ("isoc_e_dii", "E_DI4_GELO", "IT", 2022, E_DI, (None, 67.50, None, None, 69.90, None)),
    ("isoc_e_dii", "E_DI3_GELO", "IT", 2023, E_DI, (None, 58.70, None, None, 60.69, None)),
    ("isoc_e_dii", "E_DI4_GELO", "IT", 2024, E_DI, (None, 67.76, None, None, 70.21, None)),
    ("isoc_e_dii", "E_DI3_GELO", "IT", 2025, E_DI, (None, 78.00, None, None, 79.49, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LT", 2021, E_DI, (None, 53.04, None, None, 56.70, None)),
    ("isoc_e_dii", "E_DI4_GELO", "LT", 2022, E_DI, (None, 59.19, None, None, 63.70, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LT", 2023, E_DI, (None, 56.14, None, None, 59.99, None)),
    ("isoc_e_dii", "E_DI4_GELO", "LT", 2024, E_DI, (None, 61.78, None, None, 66.27, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LT", 2025, E_DI, (None, 70.06, None, None, 73.51, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LU", 2021, E_DI, (None, 49.90, None, None, 53.91, None)),
    ("isoc_e_dii", "E_DI4_GELO", "LU", 2022, E_DI, (None, 62.60, None, None, 66.25, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LU", 2023, E_DI, (None, 54.38, None, None, 57.85, None)),
    ("isoc_e_dii", "E_DI4_GELO", "LU", 2024, E_DI, (None, 66.83, None, None, 70.27, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LU", 2025, E_DI, (None, 74.22, None, None, 76.68, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LV", 2021, E_DI, (None, 34.31, None, None, 38.14, None)),
    ("isoc_e_dii", "E_DI4_GELO", "LV", 2022, E_DI, (None, 48.42, None, None, 52.27, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LV", 2023, E_DI, (None, 44.87, None, None, 48.19, None)),
    ("isoc_e_dii", "E_DI4_GELO", "LV", 2024, E_DI, (None, 55.13, None, None, 59.18, None)),
    ("isoc_e_dii", "E_DI3_GELO", "LV", 2025, E_DI, (None, 54.95, None, None, 58.54, None)),
    ("isoc_e_dii", "E_DI3_GELO", "MT", 2021, E_DI, (None, 69.59, None, None, 72.83, None)),
    ("isoc_e_dii", "E_DI4_GELO", "MT", 2022, E_DI, (None, 74.46, None, None, 77.89, None)),
    ("isoc_e_dii", "E_DI3_GELO", "MT", 2023, E_DI, (None, 73.35, None, None, 76.49, None)),
    ("isoc_e_dii", "E_DI4_GELO", "MT", 2024, E_DI, (None, 78.68, None, None, 81.28, None)),
    ("isoc_e_dii", "E_DI3_GELO", "MT", 2025, E_DI, (None, 81.24, None, None, 83.50, None)),
    ("isoc_e_dii", "E_DI3_GELO", "NL", 2021, E_DI, (None, 72.67, None, None, 75.33, None)),
    ("isoc_e_dii", "E_DI4_GELO", "NL", 2022, E_DI, (None, 77.12, None, None, 80.06, None)),
    ("isoc_e_dii", "E_DI3_GELO", "NL", 2023, E_DI, (None, 80.80, None, None, 82.72, None)),
    ("isoc_e_dii", "E_DI4_GELO", "NL", 2024, E_DI, (None, 78.04, None, None, 80.83, None)),
    ("isoc_e_dii", "E_DI3_GELO", "NL", 2025, E_DI, (None, 87.28, None, None, 88.76, None)),
    ("isoc_e_dii", "E_DI3_GELO", "PL", 2021, E_DI, (None, 35.85, None, None, 39.83, None)),
    ("isoc_e_dii", "E_DI4_GELO", "PL", 2022, E_DI, (None, 56.68, None, None, 60.95, None)),
    ("isoc_e_dii", "E_DI3_GELO", "PL", 2023, E_DI, (None, 46.05, None, None, 50.04, None)),
    ("isoc_e_dii", "E_DI4_GELO", "PL", 2024, E_DI, (None, 65.29, None, None, 68.95, None)),
    ("isoc_e_dii", "E_DI3_GELO", "PL", 2025, E_DI, (None, 55.06, None, None, 58.98, None)),
    ("isoc_e_dii", "E_DI3_GELO", "PT", 2021, E_DI, (None, 44.63, None, None, 48.60, None)),
    ("isoc_e_dii", "E_DI4_GELO", "PT", 2022, E_DI, (None, 67.77, None, None, 70.37, None)),
    ("isoc_e_dii", "E_DI3_GELO", "PT", 2023, E_DI, (None, 49.82, None, None, 53.61, None)),
    ("isoc_e_dii", "E_DI4_GELO", "PT", 2024, E_DI, (None, 71.65, None, None, 74.26, None)),
    ("isoc_e_dii", "E_DI3_GELO", "PT", 2025, E_DI, (None, 60.77, None, None, 63.94, None)),
    ("isoc_e_dii", "E_DI3_GELO", "RO", 2021, E_DI, (None, 20.52, None, None, 22.23, None)),
    ("isoc_e_dii", "E_DI4_GELO", "RO", 2022, E_DI, (None, 50.09, None, None, 52.49, None)),
    ("isoc_e_dii", "E_DI3_GELO", "RO", 2023, E_DI, (None, 24.89, None, None, 26.78, None)),
    ("isoc_e_dii", "E_DI4_GELO", "RO", 2024, E_DI, (None, 67.55, None, None, 69.10, None)),
    ("isoc_e_dii", "E_DI3_GELO", "RO", 2025, E_DI, (None, 41.91, None, None, 44.34, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SE", 2021, E_DI, (None, 84.48, None, None, 86.06, None)),
    ("isoc_e_dii", "E_DI4_GELO", "SE", 2022, E_DI, (None, 85.01, None, None, 86.86, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SE", 2025, E_DI, (None, 84.88, None, None, 86.47, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SI", 2021, E_DI, (None, 51.49, None, None, 55.15, None)),
    ("isoc_e_dii", "E_DI4_GELO", "SI", 2022, E_DI, (None, 63.26, None, None, 67.14, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SI", 2023, E_DI, (None, 45.85, None, None, 50.36, None)),
    ("isoc_e_dii", "E_DI4_GELO", "SI", 2024, E_DI, (None, 64.32, None, None, 67.63, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SI", 2025, E_DI, (None, 61.83, None, None, 65.67, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SK", 2021, E_DI, (None, 39.74, None, None, 43.00, None)),
    ("isoc_e_dii", "E_DI4_GELO", "SK", 2022, E_DI, (None, 56.12, None, None, 60.24, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SK", 2023, E_DI, (None, 38.79, None, None, 42.19, None)),
    ("isoc_e_dii", "E_DI4_GELO", "SK", 2024, E_DI, (None, 58.33, None, None, 62.90, None)),
    ("isoc_e_dii", "E_DI3_GELO", "SK", 2025, E_DI, (None, 52.85, None, None, 57.09, None)),
]

# The structure answers' codes per flow, kept apart from the catalogue so that the demo refuses
# a code the catalogue gets wrong: indic_is and unit codes as seen in the downloads cited in
# README.md ("Structures"); size classes as seen there, and ASSUMED (README) where no cited
# download shows them for the flow.
INDIC_IS = {
    "isoc_ciweb": ("E_WEB",),
    "isoc_cicce_use": ("E_CC", "E_CC1_B", "E_CC1_BI", "E_CC1_I", "E_CC1_IS_GE1", "E_CC1_PANY",
                       "E_CC1_PNONE", "E_CC1_PS", "E_CC1_S", "E_CC1_SI", "E_CC1_SS_GE1",
                       "E_CC_DA", "E_CC_HI", "E_CC_IOT", "E_CC_IOTX"),
    "isoc_eb_bd": ("E_BDA",),
    "isoc_eb_p3d": ("E_P3D", "E_P3D_ANY", "E_P3D_NONE", "E_P3D_PGPP", "E_P3D_PGS", "E_P3D_PPMI",
                    "E_P3D_PPMS", "E_P3D_OWN", "E_P3D_OTH", "E_P3D1_OWN", "E_P3D1_OTH", "E_RBT",
                    "E_RBTI", "E_RBTS"),
    "isoc_ec_esels": ("E_ESELL", "E_AESELL", "E_AWSELL"),
    "isoc_ske_itspe": ("E_ITSP2",),
    "isoc_ske_itrcrs": ("E_ITSP2_OR_RCR2", "E_ITSP2_VAC2", "E_ITSPDLA", "E_ITSPDLET",
                        "E_ITSPDLWE", "E_ITSPDSAL", "E_ITSPRCR2", "E_ITSPVAC2"),
    "isoc_ske_itts": ("E_ITT2", "E_ITSPT2", "E_ITUST2"),
    "isoc_e_dii": ("E_DI_HI", "E_DI_LO", "E_DI_VHI", "E_DI_VLO", "E_DI2_HI", "E_DI2_LO",
                   "E_DI2_VHI", "E_DI2_VLO", "E_DI3_GELO", "E_DI3_HI", "E_DI3_LO", "E_DI3_VHI",
                   "E_DI3_VLO", "E_DI4_GELO", "E_DI4_HI", "E_DI4_LO", "E_DI4_VHI", "E_DI4_VLO"),
    "isoc_eb_ai": ("E_AI_TANY", "E_AI_TX", "E_AIX_CC1SIX_DA", "E_AIX_CC1SI_DA",
                   "E_AIX_CC1SI_DAX", "E_AI_ADOWN", "E_AI_AEXT", "E_AI_AMOWN", "E_AI_AOS",
                   "E_AI_ARDY", "E_AI_BCDP", "E_AI_BCST"),
    "isoc_eb_das": ("E_DA", "E_DAOWN", "E_DAEXT", "E_DASANY", "E_DASANY2", "E_DASGE3",
                    "E_DASERP", "E_DASCRM", "E_DASSM", "E_DASWEB", "E_DASLOC", "E_DASSDS",
                    "E_DASGOV", "E_DASSAT"),
}
UNITS = {
    "isoc_cicce_use": ("PC_ENT", "PC_ENT_CC", "PC_ENT_CUSE", "PC_ENT_IUSE", "PC_ENT_IACC"),
    "isoc_eb_p3d": ("PC_ENT", "PC_ENT_CUSE", "PC_ENT_P3D"),
    "isoc_ske_itrcrs": ("PC_ENT", "PC_ENT_CUSE", "PC_ENT_ITSPRCR2"),
    "isoc_eb_ai": ("PC_ENT", "PC_ENT_IUSE", "PC_ENT_AI_TANY", "PC_ENT_AI_EC", "PC_ENT_AI_TX"),
    "isoc_eb_das": ("PC_ENT", "PC_ENT_IUSE", "PC_ENT_DAOWN"),
}
EXTRA_SIZES = {"isoc_cicce_use": ("0_1", "1-4", "1-9", "2-9", "5-9"),
               "isoc_eb_p3d": ("0_1", "2-9"), "isoc_e_dii": ("0_1",),
               "isoc_eb_ai": ("0_1", "2-9"), "isoc_eb_das": ("0_1", "2-9")}
UPDATED = {"isoc_cicce_use": "2026-02-27T23:00:00+0100", "isoc_eb_bd": "2024-12-12T23:00:00+0100",
           "isoc_eb_p3d": "2025-07-17T11:00:00+0200", "isoc_ske_itspe": "2025-02-10T23:00:00+0100",
           "isoc_ske_itrcrs": "2025-07-17T11:00:00+0200",
           "isoc_e_dii": "2026-02-27T11:00:00+0100", "isoc_eb_ai": "2026-02-27T11:00:00+0100",
           "isoc_eb_das": "2026-02-27T11:00:00+0100"}
GEO_NAMES = {"DE": "Germany", "EU27_2020": "European Union - 27 countries (from 2020)",
             "ES": "Spain", "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus",
             "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "EL": "Greece", "FI": "Finland",
             "FR": "France", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
             "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta",
             "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania",
             "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia"}

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
    for indic, unit, geo, year, updated, size, value, *attrs in rows:  # flag, conf: optional
        flag, conf = (*attrs, "", "")[:2]
        text = value if isinstance(value, str) else f"{value:g}"
        writer.writerow([flow, updated, "A", size, "C10-S951_X_K", indic,
                         unit, geo, year, text, flag, conf])
    return out.getvalue().encode()


def read_rows() -> list[dict[str, str]]:
    """ROWS_FILE: rows of the downloads copied cell by cell, OBS_VALUE as printed there."""
    with ROWS_FILE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def data_rows(ds) -> list[tuple]:
    """The demo's SDMX-CSV rows of one catalogue entry, from VALUES and ROWS_FILE."""
    rows = [(indic, next(iter(ds.units)), geo, year, upd, size, v)
            for name, indic, geo, year, upd, values in VALUES if name == ds.name
            for size, v in zip(SIZES, values, strict=True) if v is not None]
    return rows + [(r["indic_is"], r["unit"], r["geo"], int(r["TIME_PERIOD"]), E_DI,
                    r["size_emp"], r["OBS_VALUE"], r["OBS_FLAG"], r["CONF_STATUS"])
                   for r in read_rows() if r["flow"] == ds.name]


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
    geos = sorted({geo for flow, _, geo, *_ in VALUES if flow == name} | {"DE"}
                  | {r["geo"] for r in read_rows() if r["flow"] == name})
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
    # the codelists entry (model labels) is a Eurostat entry too since 8c7d5f6; it has its own
    # answers below
    for ds in (d for d in cat.of_source("eurostat") if d.model == "observations"):
        rows = data_rows(ds)
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
