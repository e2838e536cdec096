"""The Dagster UI, in headless Chromium: the asset graph lists the assets, an asset's page
shows its last materialisation with metadata, a chart's metadata, a mart's check, a raw asset's
freshness policy; one asset materialised from the UI publishes like the CLI. Screenshots go to
test-artifacts/.

The run is materialised in process (one process, however loaded the machine) into a persistent
Dagster instance at a temp DAGSTER_HOME, which the webserver then shows. Waits have deadlines
only against a hung server; every process the test starts is stopped with all it started, and
reaped, also when the test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from dagster import AssetKey, DagsterInstance
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from kmu_pipeline.defs.execution import INSTANCE_SETTINGS
from kmu_pipeline.replay import DEMO_SNAPSHOT
from kmu_pipeline.warehouse import Warehouse
from tests.processes import alive
from tests.reliability.publishing import outdate_table
from tests.replay.conftest import materialize_all, observe_upstream

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
BIN = Path(sys.executable).parent
# Against a hung process only: the webserver answers in about 10 s and a page renders in a few
# seconds on an idle 2-core machine; a loaded one may take several times that.
SERVER_DEADLINE_S = 300
PAGE_DEADLINE_S = 120
STOP_GRACE_S = 30
RUN_POLL_S = 1
RUN_POLLS = 600  # a one-mart run takes about 15 s on an idle machine
IMMEDIATE_LAUNCH = """run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
"""
LAUNCH_POLLS = 120  # the UI records the run it launches within a second or two
# an <img> of the inline chart entry that has loaded (naturalWidth 0: not loaded or broken)
INLINE_IMAGE_LOADED = """return Array.from(document.images).some(
    i => i.src.includes('/logs/kmu_charts/') && i.complete && i.naturalWidth > 0);"""


@dataclass
class DagsterUI:
    url: str
    home: Path       # the DAGSTER_HOME the webserver and the test share
    warehouse: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _stop(proc: subprocess.Popen, descendants: list[psutil.Process]) -> None:
    """Stop `proc` (started in a session of its own) and `descendants`, whatever group they
    are in now: SIGTERM, then SIGKILL for what is left after STOP_GRACE_S; reap `proc`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        for child in alive(descendants):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE_S)
        psutil.wait_procs(alive(descendants), timeout=STOP_GRACE_S)
        if proc.poll() is not None and not alive(descendants):
            return
    left = [f"{p.pid} {p.name()}" for p in alive(descendants)]
    raise AssertionError(f"processes left after SIGKILL: pid {proc.pid} ({proc.poll()}), {left}")


def _wait_for_server(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_DEADLINE_S
    while True:
        try:
            urllib.request.urlopen(f"{url}/server_info", timeout=5)
            return
        except OSError:
            pass
        assert server.poll() is None, (
            f"dagster-webserver exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        assert time.monotonic() < deadline, (
            f"dagster-webserver did not answer in {SERVER_DEADLINE_S} s (hung?):\n"
            f"{log.read_text()[-3000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), f"{path} missing: apt-get install chromium chromium-driver"
    tmp = tmp_path_factory.mktemp("ui")
    home = tmp / "home"
    home.mkdir()
    # the project's instance settings; runs launched at once, as there is no daemon to take
    # them from a queue (`dagster dev` starts one)
    (home / "dagster.yaml").write_text(INSTANCE_SETTINGS + IMMEDIATE_LAUNCH)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        with DagsterInstance.get() as instance:
            result = materialize_all(DEMO_SNAPSHOT, tmp, instance=instance)
            observed = observe_upstream(DEMO_SNAPSHOT, tmp, instance)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert observed.success
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore",
           "KMU_WAREHOUSE": str(tmp / "kmu.duckdb"), "KMU_LANDING_DIR": str(tmp / "raw")}
    port, log = _free_port(), tmp / "webserver.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h",
                                   "127.0.0.1", "-p", str(port)], cwd=REPO, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    descendants: list[psutil.Process] = []
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_server(server, url, log)
        descendants = _descendants(server)  # the code server it started
        yield DagsterUI(url, home, tmp / "kmu.duckdb")
    finally:
        _stop(server, descendants + _descendants(server))


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1600,1000"):
        options.add_argument(arg)
    service = Service(executable_path=CHROMEDRIVER, popen_kw={"start_new_session": True})
    driver = None
    try:
        driver = webdriver.Chrome(service=service, options=options)
        yield driver
    finally:
        descendants = _descendants(service.process) if service.process else []
        try:
            if driver is not None:
                driver.quit()
        finally:
            if service.process is not None:
                _stop(service.process, descendants)


def _wait_for(driver, condition, what: str, name: str) -> None:
    """Wait for `condition(driver)` (a deadline only against a hung page), then screenshot."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        WebDriverWait(driver, PAGE_DEADLINE_S).until(condition)
    except TimeoutException:
        pytest.fail(f"{driver.current_url} did not show {what} in {PAGE_DEADLINE_S} s")
    finally:
        shot = ARTIFACTS / f"{name}.png"
        driver.save_screenshot(str(shot))
        print(f"screenshot: {shot}")


def _wait_text(driver, text: str, name: str) -> None:
    _wait_for(driver, lambda d: text in d.find_element(By.TAG_NAME, "body").text, repr(text),
              name)


def test_asset_list_and_materialisation_metadata(dagster_ui, browser):
    browser.get(f"{dagster_ui.url}/assets?view=flat")  # a virtual list: the first rows only
    _wait_text(browser, "adoption_gaps", "dagster_assets")
    browser.get(f"{dagster_ui.url}/assets/raw/eurostat__isoc_cicce_use")
    _wait_text(browser, "source_url", "dagster_asset_cicce_use")
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ("Latest materialization", "Row count", "Metadata", "raw.eurostat__isoc_cicce_use"):
        assert text in body, text


def test_chart_mart_check_and_freshness(dagster_ui, browser):
    browser.get(f"{dagster_ui.url}/assets/charts/cloud_gap_trend")
    _wait_text(browser, "rows_plotted", "dagster_chart_metadata")

    browser.get(f"{dagster_ui.url}/assets/marts/firms_behind?view=checks")
    _wait_text(browser, "rows_and_ranges", "dagster_mart_check")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Warning" in body or "WARN" in body.upper(), body[:2000]  # the demo has no 52111 rows

    browser.get(f"{dagster_ui.url}/assets/raw/eurostat__isoc_cicce_use")
    _wait_text(browser, "Freshness policy", "dagster_freshness")


def test_chart_image_is_inline_on_its_materialisation(dagster_ui, browser):
    """Issue 15.6: the published chart shows on its asset page without "[Show Markdown]": the
    short "chart" entry links the copy the webserver serves under /logs, and it loads."""
    browser.get(f"{dagster_ui.url}/assets/charts/abb2_digital_integration")
    _wait_for(browser, lambda d: d.execute_script(INLINE_IMAGE_LOADED),
              "the chart image loaded through /logs/kmu_charts", "dagster_inline_chart")
    image = browser.find_element(By.CSS_SELECTOR, "img[src*='/logs/kmu_charts/']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", image)
    browser.save_screenshot(str(ARTIFACTS / "dagster_inline_chart.png"))
    assert image.get_attribute("alt").startswith("Abb. 2")
    assert image.get_attribute("src").endswith("/abb2_digital_integration/svg")


def test_source_observation_shows_the_agencys_release_stamp(dagster_ui, browser):
    """Issue 17: the agency's stamp as the upstream source asset's observed data version."""
    browser.get(f"{dagster_ui.url}/assets/upstream/eurostat__isoc_cicce_use")
    _wait_text(browser, "2026-02-27T23:00:00+0100", "dagster_source_observation")


def test_one_mart_materialised_from_the_ui_is_published(dagster_ui, browser):
    before = Warehouse(dagster_ui.warehouse).record().generation
    # the published mart is not what its SQL now gives: the rebuild has a change to publish
    outdate_table(Path(dagster_ui.warehouse).parent, "marts.adoption_gaps")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(dagster_ui.home))
        with DagsterInstance.get() as instance:
            runs_before = set(instance.get_run_ids())
            browser.get(f"{dagster_ui.url}/assets/marts/adoption_gaps")
            _wait_text(browser, "Latest materialization", "dagster_mart_before_run")
            button = browser.find_element(
                By.XPATH, "//button[.//*[normalize-space()='Materialize'] or "
                          "normalize-space()='Materialize']")
            _wait_for(browser, lambda _: button.is_enabled(), "an enabled Materialize button",
                      "dagster_mart_before_run")
            button.click()
            run = None
            for polls in range(RUN_POLLS):
                new = set(instance.get_run_ids()) - runs_before
                run = instance.get_run_by_id(new.pop()) if new else None
                if run is not None and run.is_finished:
                    break
                assert run is not None or polls < LAUNCH_POLLS, "the click launched no run"
                time.sleep(RUN_POLL_S)
            assert run.is_finished, f"run {run.run_id} did not finish (hung?)"
            assert run.is_success, [e.message for e in instance.all_logs(run.run_id)
                                    if e.dagster_event and e.dagster_event.is_failure]
            assert run.asset_selection == {AssetKey(["marts", "adoption_gaps"])}
    browser.get(f"{dagster_ui.url}/runs/{run.run_id}")
    _wait_text(browser, "Success", "dagster_ui_run")
    assert Warehouse(dagster_ui.warehouse).record().generation == before + 1
