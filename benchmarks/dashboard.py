"""The dashboard and the plot data on a 10,000-trial study, against optuna-dashboard and optuna.visualization on
the same 10,000 trials written by Optuna, in one run.

- Study page in headless chromium (Debian's, via Playwright), three visits each: hypersweep's until its table
  rows and its history plot (holding every complete trial) are drawn; optuna-dashboard's until its history plot
  holds the 10,000 points (its trial table is another page).
- A trial finished by a search writing to the same SQLite file: seconds until the open page counts it.
- Plot data: hypersweep's ``hypersweep.viz.data`` functions against ``optuna.visualization``'s plots (which
  compute their data and build the figure) for history, parallel coordinates, contour, slice, EDF, timeline.

    python benchmarks/dashboard.py                 # needs '.[bench,viz]', playwright and Debian's chromium

The two SQLite files are made once under benchmarks/.cache/ (Optuna needs about two minutes for its 10,000).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import hypersweep as hs

CACHE = Path(__file__).resolve().parent / ".cache"
SPACE = {"x": (0.0, 1.0), "y": (-5.0, 5.0), "lr": (1e-4, 1.0, "log-uniform"), "act": ["a", "b", "c"]}
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def objective(config: dict) -> float:
    return config["x"] + config["y"] ** 2 + config["lr"] + {"a": 0.0, "b": 0.5, "c": 1.0}[config["act"]]


def _distributions():
    import optuna

    return {"x": optuna.distributions.FloatDistribution(0.0, 1.0),
            "y": optuna.distributions.FloatDistribution(-5.0, 5.0),
            "lr": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True),
            "act": optuna.distributions.CategoricalDistribution(["a", "b", "c"])}


def studies(n: int) -> tuple[str, str]:
    """SQLite URLs of the hypersweep study and of the Optuna study holding the same ``n`` trials."""
    import optuna

    CACHE.mkdir(exist_ok=True)
    ours, theirs = CACHE / f"hypersweep-{n}.db", CACHE / f"optuna-{n}.db"
    if not ours.exists():
        study = hs.create_study(SPACE, storage=f"sqlite:///{ours}", name="big", sampler="random", seed=0)
        study.optimize(objective, n_trials=n, progress=False)
    if not theirs.exists():
        trials = hs.load_study("big", f"sqlite:///{ours}").trials
        twin = optuna.create_study(storage=f"sqlite:///{theirs}", study_name="big")
        dist = _distributions()
        twin.add_trials([optuna.trial.create_trial(params=dict(t.config), distributions=dist, value=t.value)
                         for t in trials])
    return f"sqlite:///{ours}", f"sqlite:///{theirs}"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def pages(ours: str, theirs: str, n: int) -> dict[str, list[float]]:
    import optuna
    import optuna_dashboard
    import uvicorn
    from playwright.sync_api import sync_playwright

    from hypersweep.viz.dashboard import create_app

    port = _port()
    server = uvicorn.Server(uvicorn.Config(create_app(ours), host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    their_port = _port()
    httpd = make_server("127.0.0.1", their_port, optuna_dashboard.wsgi(optuna.storages.RDBStorage(theirs)),
                        handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    ours_ready = (f"() => document.querySelectorAll('#trials tr.trial').length > 0 && "
                  f"(document.querySelector('#plot').data || [{{x: []}}])[0].x.length >= {n}")
    theirs_ready = ("() => [...document.querySelectorAll('.js-plotly-plot')].some(g => (g.data || [])"
                    f".reduce((k, t) => k + ((t.x || []).length), 0) >= {n})")
    times: dict[str, list[float]] = {"hypersweep": [], "optuna-dashboard": [], "live": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for label, url, ready in (("hypersweep", f"http://127.0.0.1:{port}/study/1", ours_ready),
                                  ("optuna-dashboard", f"http://127.0.0.1:{their_port}/dashboard/studies/1",
                                   theirs_ready)):
            for _ in range(3):
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_function(ready, timeout=180_000, polling=20)
                times[label].append(time.perf_counter() - start)
        page.goto(f"http://127.0.0.1:{port}/study/1")
        page.wait_for_function(ours_ready, timeout=60_000)
        study = hs.load_study("big", ours, sampler="random")
        before = len(study.trials)
        start = time.perf_counter()
        study.optimize(objective, n_trials=1, progress=False)
        page.wait_for_function(f"() => document.querySelector('#count').textContent.includes('{before + 1}')",
                               timeout=10_000, polling=20)
        times["live"].append(time.perf_counter() - start)
        browser.close()
    server.should_exit = True
    httpd.shutdown()
    return times


def plot_data(ours: str, theirs: str) -> dict[str, tuple[float, float]]:
    import optuna
    from optuna import visualization as ov

    from hypersweep.viz import data

    study = hs.load_study("big", ours)
    assert study.trials  # read once: both sides then work from memory
    twin = optuna.create_study(study_name="mem")
    twin.add_trials(optuna.load_study(study_name="big", storage=theirs).get_trials(deepcopy=False))
    pairs = {
        "history": (lambda: data.history_data(study), lambda: ov.plot_optimization_history(twin)),
        "parallel coordinates": (lambda: data.parallel_coordinate_data(study),
                                 lambda: ov.plot_parallel_coordinate(twin)),
        "contour (x, y)": (lambda: data.contour_data(study, ["x", "y"]),
                           lambda: ov.plot_contour(twin, params=["x", "y"])),
        "slice": (lambda: data.slice_data(study), lambda: ov.plot_slice(twin)),
        "edf": (lambda: data.edf_data(study), lambda: ov.plot_edf(twin)),
        "timeline": (lambda: data.timeline_data(study), lambda: ov.plot_timeline(twin)),
    }
    out = {}
    for name, (mine, peer) in pairs.items():
        out[name] = (_best_of(mine), _best_of(peer))
    return out


def _best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    import warnings

    import optuna

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    ours, theirs = studies(args.trials)
    times = pages(ours, theirs, args.trials)
    print(f"study page of {args.trials} trials, seconds per visit (first, then warm):")
    for label in ("hypersweep", "optuna-dashboard"):
        print(f"  {label:<17} " + "  ".join(f"{t:.2f}" for t in times[label]))
    warm = statistics.median(times["hypersweep"][1:]), statistics.median(times["optuna-dashboard"][1:])
    print(f"  warm: hypersweep {warm[0]:.2f} s (target <= 1), {warm[0] / warm[1]:.2f}x optuna-dashboard's "
          "(target <= 0.5)")
    print(f"  a trial finished by a search appears on the open page after {times['live'][0]:.2f} s (target <= 2)")
    print(f"\nplot data for {args.trials} trials (best of 3), hypersweep vs optuna.visualization:")
    ratios = []
    for name, (mine, peer) in plot_data(ours, theirs).items():
        ratios.append(mine / peer)
        print(f"  {name:<22} {1000 * mine:8.1f} ms  vs {1000 * peer:8.1f} ms  ratio {mine / peer:.2f}")
    print(f"  median ratio {statistics.median(ratios):.2f} (target <= 0.5)")


if __name__ == "__main__":
    main()
