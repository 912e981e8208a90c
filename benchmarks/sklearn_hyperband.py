"""HyperbandSearchCV on dask-ml's own tutorial workload (circles + MLPClassifier), against dask-ml, in one run.

dask-ml's searches only run on Dask <= 2025.1, so its side runs in a pinned virtualenv built on first use
(``benchmarks/_peers.py``); ours runs here on current Dask. Both fit on the same data with the same budget and
a 2-thread ``Client(processes=False)``; the best model of each is scored on the tutorial's 5,000 test rows.

Settings (``--settings``):
  quick  max_iter=8,  4 passes   the tutorial's "quick response" budget
  long   max_iter=15, 15 passes  the tutorial's "in practice" budget
  tpe    max_iter=27, 15 passes  ours with the default sampler ("sobol"), "random" and "tpe" (BOHB-style),
                                 and dask-ml

Prints, per setting, each seed's fit seconds and test accuracy, then the medians and our/dask-ml time ratio.

    python benchmarks/sklearn_hyperband.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _circles  # noqa: E402

SETTINGS = {"quick": (8, 4), "long": (15, 15), "tpe": (27, 15)}


def ours(seed: int, max_iter: int, passes: int, sampler: str | None = None, threads: int = 2) -> dict:
    import dask.array as da
    from distributed import Client
    from sklearn.neural_network import MLPClassifier

    from hypersweep.sklearn import HyperbandSearchCV

    X_train, X_test, y_train, y_test = _circles.data(seed)
    chunks = _circles.budget(max_iter, passes, len(X_train))["chunks"]
    with Client(processes=False, threads_per_worker=threads, n_workers=1, dashboard_address=None):
        X2, y2 = da.from_array(X_train, chunks=chunks), da.from_array(y_train, chunks=chunks)
        options = {} if sampler is None else {"sampler": sampler}
        search = HyperbandSearchCV(MLPClassifier(), _circles.params(), max_iter=max_iter, patience=True,
                                   random_state=seed, **options)
        start = time.perf_counter()
        search.fit(X2, y2, classes=list(_circles.CLASSES))
        seconds = time.perf_counter() - start
        return {"fit_seconds": seconds, "test_accuracy": float(search.score(X_test, y_test)),
                "partial_fit_calls": search.metadata_["partial_fit_calls"]}


def daskml(seed: int, max_iter: int, passes: int, threads: int = 2) -> dict:
    from _peers import run_peer

    return run_peer(HERE / "_daskml_hyperband.py", "--seed", str(seed), "--max-iter", str(max_iter),
                    "--passes", str(passes), "--threads", str(threads))


def _summary(label: str, runs: list[dict]) -> tuple[float, float]:
    secs = statistics.median(r["fit_seconds"] for r in runs)
    acc = statistics.median(r["test_accuracy"] for r in runs)
    accs = ", ".join(f"{r['test_accuracy']:.3f}" for r in runs)
    print(f"  {label:<22} median {secs:6.2f} s  accuracy median {acc:.3f}  (seeds: {accs})")
    return secs, acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--settings", default="quick,long,tpe")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    raw: dict[str, dict[str, list[dict]]] = {}
    for name in args.settings.split(","):
        max_iter, passes = SETTINGS[name]
        print(f"\n{name}: max_iter={max_iter}, {passes} passes, {args.seeds} seeds, 2 threads")
        runs: dict[str, list[dict]] = {"dask-ml": [], "hypersweep": []}
        if name == "tpe":
            runs["hypersweep tpe"] = []
            runs["hypersweep random"] = []
        for seed in range(args.seeds):
            runs["dask-ml"].append(daskml(seed, max_iter, passes))
            runs["hypersweep"].append(ours(seed, max_iter, passes))
            if name == "tpe":
                runs["hypersweep tpe"].append(ours(seed, max_iter, passes, sampler="tpe"))
                runs["hypersweep random"].append(ours(seed, max_iter, passes, sampler="random"))
        medians = {label: _summary(label, r) for label, r in runs.items()}
        base_s, base_acc = medians["dask-ml"]
        for label, (secs, acc) in medians.items():
            if label != "dask-ml":
                print(f"  {label}: time {secs / base_s:.2f}x dask-ml's, accuracy {acc - base_acc:+.3f} vs dask-ml")
        raw[name] = runs
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
