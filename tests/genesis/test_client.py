"""The GENESIS client against a local server replaying the real recorded answers.

Every status code the service uses, the job route for large tables, credentials in headers
(never landed). (The metadata stamp that makes an unchanged table a no-op is the refresh's
decision: tests/replay/test_release_aware.py.)
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from kmu_pipeline.catalogue import load_catalogue
from kmu_pipeline.errors import AuthError, CatalogueMismatchError, NotFoundError, TooLargeError
from kmu_pipeline.landing import LandingStore
from kmu_pipeline.parse.genesis_ffcsv import parse_landed
from kmu_pipeline.sources import genesis
from kmu_pipeline.sources.http import HttpClient, RetryPolicy
from tests.genesis.cassettes import GenesisFake, answers, first, register_sizes, values_answer

TOKEN = {"KMU_GENESIS_TOKEN": "tok-3f9a7c2e1b"}
ACCOUNT = {"KMU_GENESIS_USERNAME": "user-5d1e8a", "KMU_GENESIS_PASSWORD": "pw-9c4b2f7e0a"}
REGISTER = load_catalogue().dataset("unternehmensregister")
SOURCE = load_catalogue().sources["genesis"]
# 12531-0043 (the recorded job route): an entry asking for its value variable BEV030 only, as
# its recorded metadata/table lists it
JOB_TABLE = replace(REGISTER, code="12531-0043", indicators={"BEV030": "enterprises"},
                    units={"BEV030": "enterprises_count"},
                    indicator_variable="value_variable_code", size_variable=None,
                    size_class="0+", nace_variable=None)


@pytest.fixture
def client(tmp_path) -> HttpClient:
    return HttpClient(landing=LandingStore(tmp_path / "raw"),
                      retry=RetryPolicy(max_attempts=1, max_seconds=1))


@pytest.fixture
def fake(httpserver) -> GenesisFake:
    return GenesisFake(httpserver)


def _register_values(fake: GenesisFake, reference) -> None:
    """values2variable for BESG12, the register's size variable, as the service lists it."""
    fake.queue("catalogue/values2variable",
               values_answer(reference, "BESG12", register_sizes(reference)))


def _landed_text(client: HttpClient) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace")
                     for p in client.landing.root.rglob("*") if p.is_file())


def test_table_with_token_lands_metadata_and_zip_and_never_the_token(reference, fake, client):
    recorded = answers(reference, "52111-0001")
    fake.queue("metadata/table", first(recorded, "metadata/table"))
    _register_values(fake, reference)
    fake.queue("data/tablefile", first(recorded, "data/tablefile"))
    landed = genesis.fetch_dataset(REGISTER, SOURCE, client, fake.base_url, env=TOKEN)
    assert [item.path for item in landed] == ["data/tablefile"]
    rows = next(parse_landed(landed[0], landed[0].body_path(client.landing.root), REGISTER))
    assert len(rows) == 68 and set(rows["year"]) == {2023}
    m_small = rows[(rows.nace == "WZ08-M") & (rows.size_class == "10-49")]
    assert m_small[["value", "flag", "unit", "indicator"]].values.tolist() == [
        [28469.0, "e", "enterprises_count", "enterprises"]]
    # the token went out as the `username` header with an empty password, on every call ...
    for endpoint in ("metadata/table", "catalogue/values2variable", "data/tablefile"):
        (form, headers), = fake.calls(endpoint)
        assert headers["Username"] == TOKEN["KMU_GENESIS_TOKEN"] and headers["Password"] == ""
        assert "username" not in form and form["name"] in ("52111-0001", "BESG12")
    # ... and is nowhere on disk
    assert TOKEN["KMU_GENESIS_TOKEN"] not in _landed_text(client)


def test_large_table_job_route_with_account(reference, fake, client):
    recorded = answers(reference, "12531-0043")  # 98, 99, 104 x n, 0, resultfile ZIP
    fake.queue("metadata/table", first(recorded, "metadata/table"))
    fake.queue("data/tablefile", first(recorded, "data/tablefile", b'"Code":98'),
               first(recorded, "data/tablefile", b'"Code":99'))
    polls = [a for a in recorded if a.endpoint == "catalogue/results"]
    fake.queue("catalogue/results", *polls[-3:])
    fake.queue("data/resultfile", first(recorded, "data/resultfile"))
    table = JOB_TABLE
    waits = []
    landed = genesis.fetch_dataset(table, SOURCE, client, fake.base_url, env=ACCOUNT,
                                   sleep=waits.append,
                                   jobs=genesis.JobPolicy(poll_seconds=0.01, max_wait_seconds=5))
    assert [item.path for item in landed] == ["data/tablefile", "catalogue/results",
                                              "data/resultfile"]
    forms = [form for form, _ in fake.calls("data/tablefile")]
    assert [f["job"] for f in forms] == ["false", "true"]
    polls = fake.calls("catalogue/results")
    assert len(polls) == 3 and len(waits) == 2  # 104, 104, then 0
    assert polls[0][0]["selection"] == "12531-0043_175879554"
    assert fake.calls("data/resultfile")[0][0]["name"] == "12531-0043_175879554"
    assert all(h["Username"] == ACCOUNT["KMU_GENESIS_USERNAME"]
               and h["Password"] == ACCOUNT["KMU_GENESIS_PASSWORD"]
               for _, _, h in fake.received)
    body = landed[-1].body_path(client.landing.root).read_bytes()
    assert body == first(recorded, "data/resultfile").body  # landed as received
    text = _landed_text(client)
    assert ACCOUNT["KMU_GENESIS_PASSWORD"] not in text
    assert ACCOUNT["KMU_GENESIS_USERNAME"] not in text


def test_large_table_with_token_says_tokens_cannot_start_jobs(reference, fake, client):
    recorded = answers(reference, "12531-0043")
    fake.queue("metadata/table", first(recorded, "metadata/table"))
    fake.queue("data/tablefile", first(recorded, "data/tablefile", b'"Code":98'))
    table = JOB_TABLE
    with pytest.raises(TooLargeError) as err:
        genesis.fetch_dataset(table, SOURCE, client, fake.base_url, env=TOKEN)
    text = str(err.value)
    assert "12531-0043" in text and "Status.Code 98" in text and "read-only" in text
    assert "KMU_GENESIS_USERNAME" in text and "data/tablefile" in text
    assert len(fake.calls("data/tablefile")) == 1  # no job request was sent


def test_job_that_never_becomes_ready_fails_within_the_bound(reference, fake, client):
    recorded = answers(reference, "12531-0043")
    fake.queue("metadata/table", first(recorded, "metadata/table"))
    fake.queue("data/tablefile", first(recorded, "data/tablefile", b'"Code":98'),
               first(recorded, "data/tablefile", b'"Code":99'))
    fake.queue("catalogue/results", first(recorded, "catalogue/results", b'"Code":104'))
    table = JOB_TABLE
    with pytest.raises(TooLargeError, match=r"job 12531-0043_175879554 not ready after 1s"):
        genesis.fetch_dataset(table, SOURCE, client, fake.base_url, env=ACCOUNT,
                              sleep=lambda s: None,
                              jobs=genesis.JobPolicy(poll_seconds=0.3, max_wait_seconds=1))


@pytest.mark.parametrize("table, code, words", [
    ("61111-0021", -1, "no data cube"),
    ("63121-0001", 104, "no objects"),
])
def test_no_cube_and_no_objects_name_table_and_code(reference, fake, client, table, code, words):
    recorded = answers(reference, table)
    fake.queue("metadata/table", first(answers(reference, "52111-0001"), "metadata/table"))
    _register_values(fake, reference)
    fake.queue("data/tablefile", first(recorded, "data/tablefile"))
    entry = REGISTER.__class__(**{**REGISTER.__dict__, "code": table})
    with pytest.raises(NotFoundError) as err:
        genesis.fetch_dataset(entry, SOURCE, client, fake.base_url, env=TOKEN)
    assert f"GENESIS table {table} answered Status.Code {code}: {words}" in str(err.value)
    assert "dataset unternehmensregister" in str(err.value)


def test_refused_login_is_an_auth_error(fake, client):
    from tests.genesis.cassettes import Answer

    refused = Answer("metadata/table", 401, "text/html", b"<html>401 Unauthorized</html>")
    fake.queue("metadata/table", refused)
    with pytest.raises(AuthError, match="KMU_GENESIS_TOKEN"):
        genesis.fetch_dataset(REGISTER, SOURCE, client, fake.base_url, env=TOKEN)


def test_missing_credentials_fail_before_any_request_in_live_mode(fake, client):
    with pytest.raises(AuthError) as err:
        genesis.fetch_dataset(REGISTER, SOURCE, client,
                              "https://www-genesis.destatis.de/genesisWS/rest/2020", env={})
    assert "KMU_GENESIS_TOKEN" in str(err.value) and "KMU_GENESIS_PASSWORD" in str(err.value)
    assert fake.received == []
    # a loopback replay server needs none
    assert genesis.require_credentials(fake.base_url, env={}) is None
    assert repr(genesis.credentials_from_env(ACCOUNT)) == "Credentials(user/password)"


def test_variables_the_table_lacks_fail_before_the_table_is_asked_for(reference, fake, client):
    fake.queue("metadata/table", first(answers(reference, "52111-0001"), "metadata/table"))
    wrong = replace(REGISTER, size_variable="BESGK1",
                    units={"UNT002": "enterprises_count", "UNT036": "pct_enterprises"})
    with pytest.raises(CatalogueMismatchError) as err:
        genesis.fetch_dataset(wrong, SOURCE, client, fake.base_url, env=TOKEN)
    text = str(err.value)
    assert "GENESIS table 52111-0001" in text and "dataset unternehmensregister" in text
    assert "variables: ['BESGK1'] not there (it has BESG12, DINSG, JAHR, UNT002, WZ08U6)" in text
    assert "value variables: ['UNT036'] not there" in text and "catalogue.toml" in text
    assert fake.calls("data/tablefile") == []  # nothing asked that the table does not have


def test_a_size_code_the_variable_lacks_fails_before_the_table_is_asked_for(reference, fake,
                                                                           client):
    fake.queue("metadata/table", first(answers(reference, "52111-0001"), "metadata/table"))
    _register_values(fake, reference)
    sizes = {**REGISTER.size_classes, "BES0000B0010": "0-9"}  # 52911's assumed code, not URS's
    with pytest.raises(CatalogueMismatchError) as err:
        genesis.fetch_dataset(replace(REGISTER, size_classes=sizes), SOURCE, client,
                              fake.base_url, env=TOKEN)
    assert ("BESG12: ['BES0000B0010'] not there (it has BESAB0000B0010, BESAB0010B0050, "
            "BESAB0050B0250, BESAB0250UM)") in str(err.value)
    (form, _), = fake.calls("catalogue/values2variable")
    assert form["name"] == "BESG12"
    assert fake.calls("data/tablefile") == []
