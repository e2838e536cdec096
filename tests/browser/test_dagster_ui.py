"""The Dagster UI, in headless Chromium: the asset graph lists the assets, an asset's page
shows its last materialisation with metadata. Screenshots go to test-artifacts/.

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
from pathlib import Path

import psutil
import pytest
from dagster import DagsterInstance
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from kmu_pipeline.replay import DEMO_SNAPSHOT
from tests.replay.conftest import materialize_all

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
BIN = Path(sys.executable).parent
# Against a hung process only: the webserver answers in about 10 s and a page renders in a few
# seconds on an idle 2-core machine; a loaded one may take several times that.
SERVER_DEADLINE_S = 300
PAGE_DEADLINE_S = 120
STOP_GRACE_S = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def _stop(proc: subprocess.Popen, descendants: list[psutil.Process]) -> None:
    """Stop `proc` (started in a session of its own) and `descendants`, whatever group they
    are in now: SIGTERM, then SIGKILL for what is left after STOP_GRACE_S; reap `proc`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        for child in _alive(descendants):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE_S)
        psutil.wait_procs(_alive(descendants), timeout=STOP_GRACE_S)
        if proc.poll() is not None and not _alive(descendants):
            return
    left = [f"{p.pid} {p.name()}" for p in _alive(descendants)]
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
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        with DagsterInstance.get() as instance:
            result = materialize_all(DEMO_SNAPSHOT, tmp, instance=instance)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
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
        yield url
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


def _wait_text(driver, text: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        WebDriverWait(driver, PAGE_DEADLINE_S).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text)
    except TimeoutException:
        pytest.fail(f"{driver.current_url} did not show {text!r} in {PAGE_DEADLINE_S} s")
    finally:
        shot = ARTIFACTS / f"{name}.png"
        driver.save_screenshot(str(shot))
        print(f"screenshot: {shot}")


def test_asset_list_and_materialisation_metadata(dagster_ui, browser):
    browser.get(f"{dagster_ui}/assets?view=flat")
    _wait_text(browser, "eurostat__isoc_cicce_use", "dagster_assets")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "adoption_gaps" in body
    browser.get(f"{dagster_ui}/assets/raw/eurostat__isoc_cicce_use")
    _wait_text(browser, "source_url", "dagster_asset_cicce_use")
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ("Latest materialization", "Row count", "Metadata", "raw.eurostat__isoc_cicce_use"):
        assert text in body, text
