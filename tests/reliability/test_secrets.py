"""Point 7: credentials never appear in logs, exceptions, raw landing files, Dagster metadata or
the warehouse.

Eurostat needs no credentials, but its base URL can carry some (a gateway or proxy in front of
the API: KMU_EUROSTAT_BASE_URL=https://user:password@host/...). They go out as HTTP basic auth;
here a server echoes the Authorization header back in an error page, a retried 503 and a data
body, and find_secrets (secrets_scan.py) looks for the password everywhere afterwards.
"""

from __future__ import annotations

import logging

from tests.reliability import faults as f
from tests.reliability.conftest import check_errors, query, refresh
from tests.reliability.secrets_scan import find_secrets

USER, PASSWORD = "kmu-user", "S3cr3t-Fake-Pw!"


def _echo(status: int, template: str, ctype: str = "text/html"):
    """Answer with the Authorization header the client sent, as careless servers do."""
    def fault(handler, body: bytes, _ctype: str) -> None:
        sent = handler.headers.get("Authorization", "")
        text = template.format(auth=sent, body=body.decode())
        handler.raw(status, text.encode(), ctype)
    return fault


def _echo_in_last_update(handler, body: bytes, ctype: str) -> None:
    """A data body whose LAST UPDATE column carries the Authorization header sent."""
    lines = body.decode().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[1] = handler.headers["Authorization"]
    text = "\n".join([lines[0], *(",".join(row) for row in rows)]) + "\n"
    handler.raw(200, text.encode(), ctype)


def test_credentials_in_the_base_url_never_leak(faults, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    base = faults.base_url("eurostat").replace("http://", f"http://{USER}:S3cr3t-Fake-Pw%21@")
    faults.add("/data/isoc_cicce_use/",
               _echo(401, "<html>401: credentials {auth} were refused</html>"))
    faults.add("/data/isoc_ciweb/", _echo(503, "busy, retry ({auth})"), f.recorded())
    faults.add("/data/isoc_eb_bd/", _echo_in_last_update)
    result = refresh(base, tmp_path, datasets=("isoc_cicce_use", "isoc_ciweb", "isoc_eb_bd"))

    # the credentials were really sent (as basic auth) and really echoed
    sent = {entry[2].get("Authorization") for entry in faults.log}
    assert len(sent) == 1 and next(iter(sent)).startswith("Basic ")
    errors = check_errors(result)
    assert list(errors) == ["eurostat__isoc_cicce_use"]
    assert "401: credentials Basic ******** were refused" in errors["eurostat__isoc_cicce_use"]
    db = tmp_path / "kmu.duckdb"
    assert query(db, "select distinct last_update from raw.eurostat__isoc_eb_bd") == [
        ("Basic ********",)]
    assert query(db, "select count(*) from raw.eurostat__isoc_ciweb") != [(0,)]
    assert "retrying" in caplog.text  # the 503 echo went through the retry log

    captured = capfd.readouterr()
    hits = find_secrets([PASSWORD], users=[USER], files=[tmp_path],
                        logs=caplog.text + captured.out + captured.err,
                        events=result.all_events, warehouses=[db])
    assert hits == []
    # the scanner itself finds what it should (a check that can fail)
    (tmp_path / "leak.txt").write_text(f"Authorization: Basic {PASSWORD}")
    assert find_secrets([PASSWORD], files=[tmp_path]) != []
