"""marts.indicators tells a confidential cell (Eurostat CONF_STATUS) from a missing one."""

from __future__ import annotations

from kmu_pipeline.sql_models import SQL_DIR, model_from_sql, run_model
from tests.sql.marts import mart_warehouse

COLUMNS = ("source varchar, dataset varchar, indicator varchar, indicator_code varchar, "
           "size_class varchar, nace varchar, geo varchar, unit varchar, year bigint, "
           "value double, flag varchar, conf_status varchar, last_update varchar, "
           "request_id varchar")
INSERT = "insert into staging.observations values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _row(size: str, value, flag, conf):
    return ("eurostat", "isoc_cicce_use", "cloud_computing", "E_CC", size, "C10-S951_X_K", "DE",
            "pct_enterprises", 2020, value, flag, conf, None, "0123456789abcdef")


def test_confidential_and_missing_and_published_are_three_things():
    con = mart_warehouse(COLUMNS, INSERT, [_row("0-9", None, None, "C"),
                                           _row("10-49", None, ":", None),
                                           _row("50-249", 41.18, None, None)], [])
    con.execute("create table staging.stg_eurostat__labels (codelist varchar, code varchar, "
                "label_en varchar, label_de varchar)")
    run_model(con, model_from_sql("marts.indicators",
                                  (SQL_DIR / "marts" / "indicators.sql").read_text()))
    rows = con.execute("select size_class, conf_status, is_confidential, is_missing "
                       "from marts.indicators order by size_class").fetchall()
    assert rows == [("0-9", "C", True, False), ("10-49", None, False, True),
                    ("50-249", None, False, False)]
