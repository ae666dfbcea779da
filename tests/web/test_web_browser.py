"""The web app in a real headless Chromium (Debian's chromium + chromium-driver through Selenium,
no browser download): log in, upload a plate and its map, see the curve plot, save to a study,
open the patient timeline, follow a job across a reload; a viewer cannot import; a user of
another study gets 404. Every page is saved as a screenshot (``<tmp>/screenshots``; also to
``$KINRESIST_WEB_SCREENSHOTS`` when set).

The server is uvicorn in a thread on a free loopback port over a SQLite store, with background
jobs in the default process pool. Waits are explicit and bounded (``WAIT`` seconds each).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web_helpers import PASSWORD, add_accounts, dose_table, make_settings, patient_study

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 60

pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    store: object
    files: Path
    shots: Path
    patient_id: int
    study_a: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import uvicorn

    from kinresist.core.registry import get_workflow
    from kinresist.store.models import Study, Subject
    from kinresist.web.main import create_app

    tmp = tmp_path_factory.mktemp("browser")
    db = tmp / "store.sqlite"
    settings = make_settings(str(db), tmp, job_executor="process", job_workers=1)
    app = create_app(settings)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.05)
    store = app.state.kinresist.store
    add_accounts(store)
    folder = patient_study(tmp / "files" / "pt9")
    get_workflow("study.import")(
        manifest=folder / "manifest.csv",
        therapy=folder / "therapy.csv",
        db=str(db),
        study="Study A",
    )
    with store.session() as s:  # type: ignore[attr-defined]
        pid = s.query(Subject).filter(Subject.label == "PT-9").one().id
        study_a = s.query(Study).filter(Study.name == "Study A").one().id
    shots = tmp / "screenshots"
    shots.mkdir()
    try:
        yield Server(f"http://127.0.0.1:{port}", store, tmp / "files", shots, pid, study_a)
    finally:
        uv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch a browser or driver
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=en-GB",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, condition):  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(condition)


def _shot(driver, server: Server, name: str) -> None:  # type: ignore[no-untyped-def]
    """The whole page (up to 2000 px tall) as ``<name>.png``."""
    path = server.shots / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(600, min(int(height) + 140, 2000)))
    time.sleep(0.3)  # let responsive figures redraw at the new size
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(1280, 1000)
    assert path.stat().st_size > 5_000
    extra = os.environ.get("KINRESIST_WEB_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def _login(driver, server: Server, name: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.delete_all_cookies()
    driver.get(server.url + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    _wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "nav.top .who a")))


def test_upload_plate_see_curves_save_to_study(server: Server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    from kinresist.dose.examples import write_example_plate

    plate, plate_map = write_example_plate(tmp_path)
    driver = browser
    driver.delete_all_cookies()
    driver.get(server.url + "/login")
    _shot(driver, server, "login")
    _login(driver, server, "ana")
    _shot(driver, server, "home")
    driver.get(server.url + "/analyse/dose.plate")
    driver.find_element(By.ID, "in-plate").send_keys(str(plate))
    driver.find_element(By.ID, "in-plate_map").send_keys(str(plate_map))
    _shot(driver, server, "analyse-dose-plate")
    driver.find_element(By.ID, "run").click()
    _wait(driver, ec.url_contains("/results/"))
    frame = _wait(driver, ec.presence_of_element_located((By.ID, "report")))
    driver.switch_to.frame(frame)
    curves = _wait(driver, ec.presence_of_all_elements_located((By.CSS_SELECTOR, "figure svg")))
    assert len(curves) >= 2  # one panel per drug
    _wait(driver, lambda d: "kr-zoomable" in (curves[0].get_attribute("class") or ""))
    assert "IC50" in driver.page_source
    driver.switch_to.default_content()
    time.sleep(0.5)  # let the frame grow to its content
    _shot(driver, server, "result-dose-plate")
    Select(driver.find_element(By.ID, "save-study")).select_by_visible_text("Study A")
    driver.find_element(By.ID, "save-button").click()
    _wait(driver, ec.url_contains("/runs/"))
    rows = driver.find_elements(By.CSS_SELECTOR, "#run-measurements tr")
    assert len(rows) > 4
    assert "H3122-AR" in driver.page_source
    _shot(driver, server, "run")
    driver.get(f"{server.url}/studies/{server.study_a}")
    link = _wait(driver, ec.element_to_be_clickable((By.LINK_TEXT, "H3122-AR")))
    _shot(driver, server, "study")
    link.click()
    table = _wait(driver, ec.presence_of_element_located((By.ID, "ic50-history")))
    assert "alectinib" in table.text or "nM" in driver.page_source
    _shot(driver, server, "cell-line")


def test_patient_timeline(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser
    _login(driver, server, "vic")
    driver.get(f"{server.url}/studies/{server.study_a}")
    _wait(driver, ec.element_to_be_clickable((By.LINK_TEXT, "PT-9"))).click()
    # the plotly figure is drawn by the bundled plotly.js (served by the app, not a CDN)
    _wait(
        driver, ec.presence_of_element_located((By.CSS_SELECTOR, "#timeline .kr-plotly .main-svg"))
    )
    text = driver.find_element(By.ID, "timeline").text
    assert "molecular progression" in text
    assert "ALK G1202R" in text
    scripts = [s.get_attribute("src") for s in driver.find_elements(By.TAG_NAME, "script")]
    assert all(src.startswith(server.url) for src in scripts if src)
    _shot(driver, server, "timeline")


def test_viewer_cannot_import(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser
    _login(driver, server, "vic")
    driver.get(server.url + "/analyse/interpret")
    driver.find_element(By.ID, "opt-finding").send_keys("ALK G1202R")
    driver.find_element(By.ID, "opt-prior_therapy").send_keys("alectinib")
    driver.find_element(By.ID, "run").click()
    _wait(driver, ec.url_contains("/results/"))
    note = _wait(driver, ec.presence_of_element_located((By.ID, "cannot-save")))
    assert "viewer" in note.text
    assert not driver.find_elements(By.ID, "save-form")
    _shot(driver, server, "viewer-result")
    driver.get(server.url + "/analyse/study.import")
    driver.find_element(By.CSS_SELECTOR, "#field-manifest input[type=file]").send_keys(
        str(server.files / "pt9" / "manifest.csv")
    )
    driver.find_element(By.ID, "run").click()
    message = _wait(driver, ec.presence_of_element_located((By.ID, "error-message")))
    assert "viewer" in message.text
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not allowed"
    _shot(driver, server, "viewer-cannot-import")


def test_user_of_another_study_gets_404(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver = browser
    _login(driver, server, "bob")
    driver.get(f"{server.url}/subjects/{server.patient_id}")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert "PT-9" not in driver.page_source
    _shot(driver, server, "other-study-404")
    driver.get(server.url + "/studies")
    assert "Study A" not in driver.find_element(By.ID, "studies").text


def test_job_progress_survives_a_reload(server: Server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    table = dose_table(tmp_path / "dose.csv")
    driver = browser
    _login(driver, server, "ana")
    driver.get(server.url + "/analyse/dose.fit")
    driver.find_element(By.ID, "in-input").send_keys(str(table))
    driver.find_element(By.ID, "opt-dose_col").send_keys("dose")
    driver.find_element(By.ID, "opt-response_col").send_keys("response")
    driver.find_element(By.ID, "opt-group_col").send_keys("line")
    driver.find_element(By.ID, "run").click()
    _wait(driver, ec.url_contains("/jobs/"))
    job_url = driver.current_url
    assert driver.find_element(By.ID, "job-progress")
    _shot(driver, server, "job")
    driver.refresh()  # the state is in the store: the page comes back as it was
    status = driver.find_element(By.ID, "job-status").text
    assert status in ("queued", "running", "done")
    _wait(driver, ec.url_contains("/results/"))  # the page follows the job to its result
    frame = _wait(driver, ec.presence_of_element_located((By.ID, "report")))
    driver.switch_to.frame(frame)
    _wait(driver, ec.presence_of_element_located((By.TAG_NAME, "table")))
    driver.switch_to.default_content()
    driver.get(job_url)
    assert driver.find_element(By.ID, "job-status").text == "done"


def test_knowledge_base_browser(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser
    _login(driver, server, "vic")
    driver.get(server.url + "/kb")
    box = driver.find_element(By.ID, "kb-q")
    box.send_keys("ALK G1202R")
    box.submit()
    calls = _wait(driver, ec.presence_of_element_located((By.ID, "kb-calls")))
    assert "lorlatinib" in calls.text
    assert driver.find_elements(
        By.CSS_SELECTOR, "#kb-calls a[href^='https://pubmed.ncbi.nlm.nih.gov/']"
    )
    _shot(driver, server, "kb")
