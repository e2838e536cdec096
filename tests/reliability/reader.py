"""An analyst's process: query the published warehouse in a loop until told to stop.

Run as `python reader.py DB STOP_FILE MODE`; prints one JSON line per read (the values it saw)
and one per error. MODE `reconnect` opens a read-only connection per read; `hold` keeps one
read-only connection for several reads, as a notebook does (it keeps seeing the run it opened).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

READ = """
select
    (select value from raw.eurostat__isoc_cicce_use
     where geo = 'DE' and year = 2020 and size_class = '10-49') as cloud_raw,
    (select value from raw.eurostat__isoc_eb_bd
     where geo = 'DE' and year = 2020 and size_class = '10-49') as big_data_raw,
    (select value from marts.indicators where indicator = 'cloud_computing' and geo = 'DE'
     and year = 2020 and size_class = '10-49' and source = 'eurostat') as cloud_mart,
    (select value from marts.indicators where indicator = 'big_data' and geo = 'DE'
     and year = 2020 and size_class = '10-49' and source = 'eurostat') as big_data_mart,
    (select count(*) from meta.runs) as runs,
    (select string_agg(run_id order by published_at desc) from meta.runs) as run_ids
"""


def main(db: str, stop: str, mode: str) -> None:
    con = None
    reads = 0
    while not Path(stop).exists():
        try:
            if con is None:
                con = duckdb.connect(db, read_only=True)
            row = con.execute(READ).fetchone()
            print(json.dumps({"row": list(row[:5]), "latest": row[5].split(",")[0]}), flush=True)
            reads += 1
            if mode == "reconnect" or reads % 5 == 0:
                con.close()
                con = None
        except Exception as exc:  # every error is reported, none is retried
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
            con = None
        time.sleep(0.2)
    if con is not None:
        con.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
