"""The timeline HTML in a real headless Chromium (Debian's chromium + chromedriver via selenium;
nothing is downloaded): the plotly figure renders with its log axis, its three therapy bands
and the below-LoD markers, and the browser logs no console error. A screenshot is kept under
``tmp_path`` as the test's artefact."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("needs chromium and chromedriver (Debian packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,1600", "--allow-file-access-from-files"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_timeline_html_renders_plot_with_therapy_bands(
    cli, vcf_study: Path, tmp_path: Path, browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    db = str(tmp_path / "s.sqlite")
    r = cli(["study", "import", vcf_study / "manifest.csv", "--therapy", vcf_study / "therapy.csv",
             "--db", db])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    page = tmp_path / "timeline.html"
    r = cli(["timeline", "PT-1", "--db", db, "--format", "html", "--out", page])
    assert r.exit_code == 0, r.stderr
    html = page.read_text(encoding="utf-8")
    assert re.search(r"<script[^>]*\bsrc\s*=", html) is None  # plotly.js is inline, no CDN

    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const p = document.querySelector('.js-plotly-plot');"
            "return p !== null && p._fullLayout !== undefined && "
            "document.querySelectorAll('.shapelayer path').length > 0;"
        )
    )
    info = browser.execute_script(
        "const p = document.querySelector('.js-plotly-plot');"
        "return {axis: p._fullLayout.yaxis.type,"
        " bands: p.layout.shapes.filter(s => s.type === 'rect').map(s => s.name),"
        " drawn: document.querySelectorAll('.shapelayer path').length,"
        " traces: p.data.map(t => t.name),"
        " points: document.querySelectorAll('.scatterlayer .point').length};"
    )
    assert info["axis"] == "log"
    assert info["bands"] == ["therapy: crizotinib", "therapy: alectinib", "therapy: lorlatinib"]
    assert info["drawn"] >= 3
    assert "ALK G1202R (NGS): not detected (at LoD)" in info["traces"]
    assert info["points"] >= 12
    assert browser.find_element(By.ID, "alerts").text.count("ALK G1202R") >= 3
    shot = tmp_path / "timeline.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
