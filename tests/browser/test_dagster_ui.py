"""The Dagster UI, in headless Chromium: the asset graph lists the assets, an asset's page
shows its last materialisation with metadata. Runs against a temp DAGSTER_HOME and a replay
server of the demo snapshot; screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from kmu_pipeline.replay import DEMO_SNAPSHOT, ReplayServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), f"{path} missing: apt-get install chromium chromium-driver"
    tmp = tmp_path_factory.mktemp("ui")
    (tmp / "home").mkdir()
    with ReplayServer(DEMO_SNAPSHOT) as replay:
        env = {**os.environ, "DAGSTER_HOME": str(tmp / "home"), "PYTHONWARNINGS": "ignore",
               "KMU_WAREHOUSE": str(tmp / "kmu.duckdb"), "KMU_LANDING_DIR": str(tmp / "raw"),
               "KMU_EUROSTAT_BASE_URL": replay.base_url("eurostat"),
               "KMU_GENESIS_BASE_URL": replay.base_url("genesis"),
               "KMU_DESI_BASE_URL": replay.base_url("desi")}
        run = subprocess.run([str(BIN / "dagster"), "job", "execute", "-m",
                              "kmu_pipeline.defs.definitions", "-j", "refresh_all"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-3000:]
    port = _free_port()
    server = subprocess.Popen([str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h",
                               "127.0.0.1", "-p", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 40
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "dagster-webserver did not start in 40 s"
                assert server.poll() is None, "dagster-webserver exited"
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1600,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_text(driver, text: str, name: str, timeout: float = 30) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        WebDriverWait(driver, timeout).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text)
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
