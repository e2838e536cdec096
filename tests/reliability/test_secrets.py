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
    faults.add("/data/isoc_ske_itspe/", _echo(503, "busy, retry ({auth})"), f.recorded())
    faults.add("/data/isoc_eb_bd/", _echo_in_last_update)
    result = refresh(base, tmp_path, datasets=("isoc_cicce_use", "isoc_ske_itspe", "isoc_eb_bd"))

    # the credentials were really sent (as basic auth) and really echoed
    sent = {entry[2].get("Authorization") for entry in faults.log}
    assert len(sent) == 1 and next(iter(sent)).startswith("Basic ")
    errors = check_errors(result)
    assert list(errors) == ["eurostat__isoc_cicce_use"]
    assert "401: credentials Basic ******** were refused" in errors["eurostat__isoc_cicce_use"]
    db = tmp_path / "kmu.duckdb"
    assert query(db, "select distinct last_update from raw.eurostat__isoc_eb_bd") == [
        ("Basic ********",)]
    assert query(db, "select count(*) from raw.eurostat__isoc_ske_itspe") != [(0,)]
    assert "retrying" in caplog.text  # the 503 echo went through the retry log

    captured = capfd.readouterr()
    hits = find_secrets([PASSWORD], users=[USER], files=[tmp_path],
                        logs=caplog.text + captured.out + captured.err,
                        events=result.all_events, warehouses=[db])
    assert hits == []
    # the scanner itself finds what it should (a check that can fail)
    (tmp_path / "leak.txt").write_text(f"Authorization: Basic {PASSWORD}")
    assert find_secrets([PASSWORD], files=[tmp_path]) != []


GENESIS_USER, GENESIS_PASSWORD = "genesis-user-7f3a", "Gen3sis-Fake-Pw!"


def _echo_genesis_headers(handler, body: bytes, ctype: str) -> None:
    """A login refusal that repeats the username/password headers it received."""
    text = (f"<html>401: login {handler.headers.get('username')} / "
            f"{handler.headers.get('password')} refused</html>")
    handler.raw(401, text.encode(), "text/html")


def test_genesis_credentials_never_leak(faults, tmp_path, caplog, capfd, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("KMU_GENESIS_USERNAME", GENESIS_USER)
    monkeypatch.setenv("KMU_GENESIS_PASSWORD", GENESIS_PASSWORD)
    faults.add("/genesis/data/tablefile", _echo_genesis_headers)
    from kmu_pipeline.catalogue import load_catalogue
    from kmu_pipeline.defs.assets import build_raw_asset

    catalogue = load_catalogue()
    genesis_assets = [build_raw_asset(catalogue.dataset("ikt_by_size"), catalogue)]
    result = refresh(faults, tmp_path, datasets=("isoc_cicce_use",), extra_assets=genesis_assets,
                     base_urls={"genesis": faults.base_url("genesis")})

    # the credentials went out as the username/password headers of every GENESIS request ...
    sent = [entry[2] for entry in faults.requests_to("/genesis/")]
    assert len(sent) == 4  # metadata/table, values2variable of IKTNU1 and BESGK1, the table
    assert all(h.get("username") == GENESIS_USER and h.get("password") == GENESIS_PASSWORD
               for h in sent)
    errors = check_errors(result)
    assert list(errors) == ["genesis__ikt_by_size"]
    assert "401: login ******** / ******** refused" in errors["genesis__ikt_by_size"]
    # ... and are nowhere afterwards
    db = tmp_path / "kmu.duckdb"
    captured = capfd.readouterr()
    hits = find_secrets([GENESIS_PASSWORD, GENESIS_USER], files=[tmp_path],
                        logs=caplog.text + captured.out + captured.err,
                        events=result.all_events, warehouses=[db])
    assert hits == []
