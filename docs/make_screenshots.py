"""Screenshots of the dashboard's main views for the docs (docs/images/), from a small Lightning-free study.

    .venv/bin/python docs/make_screenshots.py      # needs Debian's chromium and the test extras
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

import hypersweep as hs
from hypersweep.viz.dashboard import create_app

OUT = Path(__file__).resolve().parent / "images"


def objective(config, trial):
    value = 0.0
    for step in range(1, 10):
        value = (config["x"] - 0.3) ** 2 + config["lr"] * 10 + 1.0 / step
        trial.report(value, step)
        if trial.should_stop():
            break
    return value


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        study = hs.create_study({"x": (0.0, 1.0), "lr": (1e-4, 1e-1, "log-uniform"), "act": ["relu", "tanh"]},
                                storage=url, name="demo", scheduler="asha", seed=0)
        study.optimize(objective, n_trials=60, n_workers=2, executor="thread", progress=False)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="error"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("tr.study")
            page.screenshot(path=str(OUT / "dashboard-studies.png"))
            page.click("text=demo")
            page.wait_for_selector("#plot .main-svg")
            page.click("#trials th[data-key=value]")
            page.screenshot(path=str(OUT / "dashboard-study.png"))
            page.select_option("#plot-kind", "intermediate")
            page.wait_for_function("document.querySelector('#plot').dataset.kind === 'intermediate'")
            page.click("#trials tr.trial >> nth=0")
            page.wait_for_selector("#detail h3")
            page.screenshot(path=str(OUT / "dashboard-trial.png"), full_page=True)
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
