"""The report in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
selenium opens report.html from a file, built from a real small run made here (profile=smoke, digits,
three models, two seeds, two training sizes). It loads nothing from anywhere and logs no error, every
interactive plot is drawn, hovering a point names its model, family, seed and parameters, clicking a
family in a legend hides it, a click on a column header sorts the table and the filter box hides rows.
Screenshots are kept as CI artifacts in $BENCH_ARTIFACTS, else results/artifacts/ (git-ignored).

Marked `browser`: not in the README's `pytest`; `.ci/run` runs `pytest -m browser`.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MODELS = ("knn", "random_forest", "mlp")
INSTALL = "apt-get install -y chromium chromium-driver"


def artifacts() -> Path:
    folder = Path(os.environ.get("BENCH_ARTIFACTS") or ROOT / "results" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def report(bench, tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("browser") / "results"
    code, folder = bench(results, "suite=vision", "profile=smoke", "dataset=digits", f"suite.models=[{','.join(MODELS)}]",
                         "hardware.threads=1", "scaling=on", "scaling.sizes=[100,300]", "scaling.seeds=[0,1]")
    assert code == 0 and (folder / "report.html").exists()
    return folder / "report.html"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, f"no chromium or chromedriver on PATH: {INSTALL}"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1600",
                 "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The system's chromedriver, named by path: selenium never looks for (or downloads) another.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, report):
    browser.get(report.as_uri())
    browser.find_element("css selector", ".stamp")  # the page is parsed to its end
    return browser


def severe(page) -> list[str]:
    return [e["message"] for e in page.get_log("browser") if e["level"] == "SEVERE"]


def test_page_loads_from_a_file_with_no_error_and_no_request(page):
    assert severe(page) == []
    # every figure and script is inline: the browser fetched nothing after the file itself
    fetched = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == []


def test_every_interactive_plot_is_drawn(page):
    plots = page.find_elements("css selector", ".interactive > div > .js-plotly-plot")
    names = [p.get_attribute("id") for p in plots]
    assert names == ["plot-vision-accuracy-vs-train-time", "plot-vision-accuracy-vs-parameters",
                     "plot-vision-learning-curves"]
    for plot in plots:
        assert plot.find_elements("css selector", "svg.main-svg"), plot.get_attribute("id")
        points = plot.find_elements("css selector", ".scatterlayer .point")
        assert len(points) >= 4, plot.get_attribute("id")  # 3 models x 2 seeds, or 3 lines of 2 sizes
    assert len(page.find_elements("css selector", "figure img[src^='data:image/png']")) >= 1  # the static ones
    assert severe(page) == []


def hover_text(page, plot: str, trace: str, expected: str) -> str:
    """Hover the first point of the deep family's `first` or `last` trace until the hover box reads
    `expected` (a pattern; plotly throttles hovers, so one may wait for the next); the box's text."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    script = f"""
        const div = document.getElementById('{plot}');
        const deep = div.data.map((t, i) => [t.name, i]).filter(([name]) => name === 'deep').map(([, i]) => i);
        Plotly.Fx.hover(div, [{{curveNumber: deep.at({0 if trace == 'first' else -1}), pointNumber: 0}}]);
        return div.querySelector('.hoverlayer').textContent;"""
    seen = []
    try:
        WebDriverWait(page, 5, poll_frequency=0.2).until(
            lambda p: seen.append(p.execute_script(script)) or re.search(expected, seen[-1]))
    except TimeoutException:
        pass
    return seen[-1]


def test_hover_names_model_family_seed_and_parameters(page):
    pattern = r"^mlp \(deep\)seed [01], n_train 300accuracy 0\.\d{4}training time"
    one_seed = hover_text(page, "plot-vision-accuracy-vs-train-time", "first", pattern)
    assert re.search(pattern, one_seed), one_seed
    assert "module_params.hidden=[256, 128]" in one_seed and "max_epochs=2" in one_seed, one_seed
    pattern = r"^mlp \(deep\)mean accuracy 0\.\d{4} over seeds 0, 1training time"
    mean = hover_text(page, "plot-vision-accuracy-vs-train-time", "last", pattern)
    assert re.search(pattern, mean), mean
    pattern = r"^mlp \(deep\)n_train 100mean accuracy 0\.\d{4} over seeds 0, 1"
    curve = hover_text(page, "plot-vision-learning-curves", "first", pattern)
    assert re.search(pattern, curve) and "module_params.hidden=[256, 128]" in curve, curve


def test_clicking_a_family_in_the_legend_hides_it_in_every_panel(page):
    from selenium.webdriver.support.ui import WebDriverWait

    plot = page.find_element("css selector", "#plot-vision-learning-curves")
    visible = "return document.getElementById('plot-vision-learning-curves').data.map(t => [t.name, t.visible])"
    assert all(v in (None, True) for _, v in page.execute_script(visible))
    legend = [item for item in plot.find_elements("css selector", ".legend .traces") if item.text == "deep"]
    legend[0].find_element("css selector", ".legendtoggle").click()
    # plotly waits out a double-click before it acts on a single one
    WebDriverWait(page, 5).until(lambda p: {v for name, v in p.execute_script(visible) if name == "deep"} == {"legendonly"})
    assert {v for name, v in page.execute_script(visible) if name == "classical"} <= {None, True}
    legend[0].find_element("css selector", ".legendtoggle").click()  # back, for the screenshot
    WebDriverWait(page, 5).until(lambda p: all(v in (None, True) for _, v in p.execute_script(visible)))


def column(table, index: int) -> list[str]:
    return [row.find_elements("css selector", "td")[index].text for row in table.find_elements("css selector", "tbody tr")]


def seconds(text: str) -> float:
    value, unit = re.match(r"([\d.]+) (ms|s|min)", text).groups()
    return float(value) * {"ms": 1e-3, "s": 1, "min": 60}[unit]


def test_a_click_on_a_header_sorts_the_table(page):
    table = page.find_element("xpath", "//h3[@id='vision-digits']/following::table[1]")
    headers = [th.text for th in table.find_elements("css selector", "thead th")]
    accuracy, train = headers.index("accuracy"), headers.index("train time")
    before = [float(t.split()[0]) for t in column(table, accuracy)]
    assert before != sorted(before)  # classical first, then by accuracy: not one ascending order
    th = table.find_elements("css selector", "thead th")[accuracy]
    th.click()
    assert th.get_attribute("aria-sort") == "ascending"
    assert [float(t.split()[0]) for t in column(table, accuracy)] == sorted(before)
    th.click()
    assert [float(t.split()[0]) for t in column(table, accuracy)] == sorted(before, reverse=True)
    # times in ms and s, in the order of their seconds
    table.find_elements("css selector", "thead th")[train].click()
    times = [seconds(t) for t in column(table, train)]
    assert times == sorted(times)


def test_the_filter_box_hides_rows_without_the_words(page):
    box = page.find_element("xpath", "//h2[@id='claims']/following::input[@class='filter'][1]")
    table = box.find_element("xpath", "following::table[1]")
    rows = table.find_elements("css selector", "tbody tr")
    box.send_keys("T3")
    shown = [r.text for r in rows if r.is_displayed()]
    assert len(shown) == 1 and shown[0].startswith("T3-time") and len(rows) > 4
    box.clear()
    box.send_keys(" ")  # an input event with no words: every row again
    assert all(r.is_displayed() for r in rows)


def test_screenshots_are_kept_as_ci_artifacts(page):
    """After the tests above (pytest keeps file order): the top of the page, then the suite's plots."""
    folder = artifacts()
    page.execute_script("document.querySelectorAll('.plotly-notifier').forEach(n => n.remove());"
                        "document.querySelectorAll('input.filter').forEach(box => { box.value = ''; });")
    page.execute_script("window.scrollTo(0, 0)")
    assert page.save_screenshot(str(folder / "report-top.png"))
    page.execute_script("document.getElementById('vision-digits').scrollIntoView()")
    assert page.save_screenshot(str(folder / "report-suite.png"))
    for name in ("report-top.png", "report-suite.png"):
        assert (folder / name).stat().st_size > 20_000  # a drawn page, not a blank one
    assert severe(page) == []
