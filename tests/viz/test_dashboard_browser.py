"""The dashboard in a real browser (Debian's chromium, driven by Playwright): open a study, sort and filter the
table, see a plot render, watch a new trial appear while a search runs, and a script-like value shown as text."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("playwright")
pytest.importorskip("uvicorn")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:  # pragma: no cover - .ci/run installs it
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

import hypersweep as hs  # noqa: E402
from hypersweep.viz.dashboard import create_app  # noqa: E402

EVIL = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=1</script>"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def dashboard(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    study = hs.create_study({"x": (0.0, 1.0), "tag": ["plain", EVIL]}, storage=url, name="browse",
                            sampler="random", seed=1)
    study.optimize(lambda c: c["x"], n_trials=8, progress=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", study
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser.new_page()
        browser.close()


def _values(page) -> list[float]:
    cells = page.locator("#trials tr.trial td:nth-child(3)").all_inner_texts()
    return [float(c) for c in cells]


@pytest.mark.slow
def test_browse_sort_filter_plot_and_watch_a_search(dashboard, page, tmp_path):
    base, study = dashboard
    page.goto(base + "/")
    page.click("text=browse")
    page.wait_for_selector("#trials tr.trial")
    assert page.locator("#trials tr.trial").count() == 8
    page.wait_for_selector("#plot .main-svg")  # plotly drew the history plot
    page.click("#trials th[data-key=value]")
    values = _values(page)
    assert values == sorted(values)
    page.click("#trials th[data-key=value]")
    assert _values(page) == sorted(values, reverse=True)
    page.fill("#filter", "plain")
    shown = page.locator("#trials tr.trial").count()
    assert shown == sum(1 for t in study.trials if t.config["tag"] == "plain")
    page.fill("#filter", "")
    page.select_option("#plot-kind", "slice")
    page.wait_for_function("document.querySelector('#plot').dataset.kind === 'slice'")
    page.screenshot(path=str(tmp_path / "study.png"))
    # a search writing to the same database: its new trial shows within 2 s
    runner = threading.Thread(target=lambda: study.optimize(lambda c: c["x"], n_trials=1, progress=False))
    start = time.perf_counter()
    runner.start()
    runner.join()
    page.wait_for_selector("#trials tr.trial[data-number='8']", timeout=2000)
    assert time.perf_counter() - start < 2.5
    page.click("#trials tr.trial[data-number='8']")
    page.wait_for_selector("#detail h3")
    assert "trial 8" in page.inner_text("#detail h3")


@pytest.mark.slow
def test_a_script_in_a_parameter_value_is_shown_as_text(dashboard, page):
    base, study = dashboard
    page.goto(base + "/study/1")
    page.wait_for_selector("#trials tr.trial")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    texts = page.locator("#trials tr.trial").all_inner_texts()
    assert any(EVIL in text for text in texts)  # the value itself, as text
    assert page.locator("#trials img").count() == 0 and page.locator("#trials script").count() == 0
