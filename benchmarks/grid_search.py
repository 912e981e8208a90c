"""Grid search on a text pipeline: scikit-learn's GridSearchCV, hypersweep's on a 2-worker LocalCluster, and
dask-ml's, in one run, on the same generated corpus (``_text.py``: the tutorial's pipeline and its full grid,
384 candidates x 3 folds).

usage: python benchmarks/grid_search.py [--n-docs 300] [--seed 0] [--cv 3] [--repeats 1] [--no-daskml]
                                       [--peer-sklearn]

- scikit-learn: ``GridSearchCV(pipeline, grid, cv=3, n_jobs=2)`` (loky processes), refit included;
- hypersweep: ``hypersweep.sklearn.GridSearchCV(pipeline, grid, cv=3)`` on ``LocalCluster(n_workers=2,
  threads_per_worker=1)``, refit included; the cluster's start is timed apart;
- dask-ml (when ``_peers.py`` and ``_daskml_grid.py`` are there): ``dask_ml.model_selection.GridSearchCV`` in
  its own pinned environment (scikit-learn 1.6, NumPy 1.x), as ``_daskml_grid.py`` runs it.

Each search's fit is timed by the wall clock; with ``--repeats N`` scikit-learn's and hypersweep's alternate and
each keeps its best. The ``mean_test_score`` of every candidate must agree: exactly between scikit-learn and
hypersweep (same environment); dask-ml's come from other library versions, so the largest difference is
printed; ``--peer-sklearn`` also runs scikit-learn's own search in dask-ml's environment, to tell differences
of dask-ml from differences of library versions. Targets: hypersweep <= 0.5 x scikit-learn and <= dask-ml.
The last line of output is a JSON record.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _text  # noqa: E402

TARGET_SKLEARN = 0.5
TARGET_DASKML = 1.0


def _quiet() -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*Port 8787 is already in use.*")
    logging.getLogger("distributed").setLevel(logging.ERROR)


def time_sklearn(docs, labels, cv: int) -> tuple[float, object]:
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(_text.pipeline(), _text.grid(), cv=cv, n_jobs=2)
    start = time.perf_counter()
    search.fit(docs, labels)
    return time.perf_counter() - start, search


def time_ours(docs, labels, cv: int, client) -> tuple[float, object]:
    from hypersweep.sklearn import GridSearchCV

    search = GridSearchCV(_text.pipeline(), _text.grid(), cv=cv, scheduler=client)
    start = time.perf_counter()
    search.fit(docs, labels)
    return time.perf_counter() - start, search


def time_daskml(n_docs: int, seed: int, cv: int) -> dict | None:
    """dask-ml's run (in its environment), or None when the peer helpers are not in this checkout."""
    script = HERE / "_daskml_grid.py"
    try:
        from _peers import run_peer
    except ImportError:
        print("dask-ml: skipped (benchmarks/_peers.py is not there)", file=sys.stderr)
        return None
    if not script.is_file():
        print("dask-ml: skipped (benchmarks/_daskml_grid.py is not there)", file=sys.stderr)
        return None
    return run_peer(script, "--workload", str(HERE / "_text.py"), "--n-docs", str(n_docs), "--seed", str(seed),
                    "--cv", str(cv))


_PEER_SKLEARN = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("_text", sys.argv[1])
text = importlib.util.module_from_spec(spec)
spec.loader.exec_module(text)
from sklearn.model_selection import GridSearchCV
docs, labels = text.corpus(int(sys.argv[2]), int(sys.argv[3]))
search = GridSearchCV(text.pipeline(), text.grid(), cv=int(sys.argv[4]), n_jobs=2).fit(docs, labels)
print(json.dumps({"mean_test_score": [float(s) for s in search.cv_results_["mean_test_score"]]}))
"""


def scores_peer_sklearn(n_docs: int, seed: int, cv: int) -> np.ndarray:
    """scikit-learn's own mean_test_score, computed in dask-ml's environment (its library versions)."""
    import tempfile

    from _peers import run_peer

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "peer_sklearn_grid.py"
        script.write_text(_PEER_SKLEARN)
        out = run_peer(script, str(HERE / "_text.py"), str(n_docs), str(seed), str(cv))
    return np.asarray(out["mean_test_score"])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-docs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-daskml", action="store_true", help="leave dask-ml out")
    parser.add_argument("--peer-sklearn", action="store_true",
                        help="also run scikit-learn's search in dask-ml's environment (its versions)")
    args = parser.parse_args(argv)
    _quiet()
    from distributed import Client, LocalCluster

    docs, labels = _text.corpus(args.n_docs, args.seed)
    n_candidates = len(list(__import__("sklearn.model_selection").model_selection.ParameterGrid(_text.grid())))
    print(f"corpus: {len(docs)} generated documents, {len(set(labels.tolist()))} classes; grid: {n_candidates} "
          f"candidates x {args.cv} folds = {n_candidates * args.cv} fits; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
    client = Client(cluster)
    cluster_seconds = time.perf_counter() - start
    sk_times, our_times = [], []
    try:
        for _ in range(args.repeats):
            seconds, sk = time_sklearn(docs, labels, args.cv)
            sk_times.append(seconds)
            print(f"scikit-learn GridSearchCV(n_jobs=2):        {seconds:7.1f} s", flush=True)
            seconds, ours = time_ours(docs, labels, args.cv, client)
            our_times.append(seconds)
            print(f"hypersweep GridSearchCV (2-worker cluster): {seconds:7.1f} s   (+{cluster_seconds:.1f} s to start "
                  "the cluster)", flush=True)
    finally:
        client.close()
        cluster.close()

    sk_scores, our_scores = sk.cv_results_["mean_test_score"], ours.cv_results_["mean_test_score"]
    if ours.cv_results_["params"] != sk.cv_results_["params"]:
        raise SystemExit("hypersweep's candidates differ from scikit-learn's")
    same = bool(np.array_equal(sk_scores, our_scores))
    sk_best, our_best = min(sk_times), min(our_times)
    record: dict = {
        "n_docs": args.n_docs, "seed": args.seed, "cv": args.cv, "n_candidates": n_candidates,
        "sklearn_seconds": sk_times, "hypersweep_seconds": our_times, "cluster_start_seconds": cluster_seconds,
        "scores_equal_sklearn": same, "max_abs_diff_sklearn": float(np.max(np.abs(sk_scores - our_scores))),
        "best_score": float(ours.best_score_), "ratio_sklearn": our_best / sk_best,
        "upstream_fits": dict(ours.step_fits_),
    }

    daskml = None if args.no_daskml else time_daskml(args.n_docs, args.seed, args.cv)
    if daskml is not None:
        ours_reprs = [{k: repr(v) for k, v in sorted(p.items())} for p in ours.cv_results_["params"]]
        if daskml["params"] != ours_reprs:
            raise SystemExit("dask-ml's candidates (or their order) differ from hypersweep's")
        dm_scores = np.asarray(daskml["mean_test_score"])
        diff = np.abs(dm_scores - our_scores)
        record.update(daskml_seconds=daskml["fit_seconds"], ratio_daskml=our_best / daskml["fit_seconds"],
                      max_abs_diff_daskml=float(diff.max()), n_differ_daskml=int((diff > 1e-9).sum()),
                      daskml_versions=daskml["versions"])
        print(f"dask-ml GridSearchCV (2 threads):           {daskml['fit_seconds']:7.1f} s   "
              f"(dask-ml {daskml['versions']['dask-ml']}, scikit-learn {daskml['versions']['scikit-learn']})",
              flush=True)
        if args.peer_sklearn:
            peer = scores_peer_sklearn(args.n_docs, args.seed, args.cv)
            record["max_abs_diff_daskml_vs_its_sklearn"] = float(np.max(np.abs(peer - dm_scores)))

    print()
    print(f"mean_test_score: hypersweep == scikit-learn for all {n_candidates} candidates: {same}")
    if daskml is not None:
        print(f"mean_test_score: hypersweep vs dask-ml: largest difference {record['max_abs_diff_daskml']:.2e}, "
              f"{record['n_differ_daskml']} candidates differ by more than 1e-9 (other library versions)")
        if "max_abs_diff_daskml_vs_its_sklearn" in record:
            print(f"mean_test_score: dask-ml vs scikit-learn in dask-ml's environment: largest difference "
                  f"{record['max_abs_diff_daskml_vs_its_sklearn']:.2e}")
    print(f"upstream fits (distinct prefix x fold): {record['upstream_fits']}  (scikit-learn fits each step "
          f"{n_candidates * args.cv} times)")
    verdict = "met" if record["ratio_sklearn"] <= TARGET_SKLEARN else "NOT met"
    print(f"hypersweep / scikit-learn: {record['ratio_sklearn']:.2f}  (target <= {TARGET_SKLEARN}: {verdict})")
    if daskml is not None:
        verdict = "met" if record["ratio_daskml"] <= TARGET_DASKML else "NOT met"
        print(f"hypersweep / dask-ml:      {record['ratio_daskml']:.2f}  (target <= {TARGET_DASKML}: {verdict})")
    print(json.dumps(record), flush=True)
    if not same:
        raise SystemExit("hypersweep's mean_test_score differ from scikit-learn's")
    return record


if __name__ == "__main__":
    main()
