"""Successive halving for estimators without partial_fit, against scikit-learn's HalvingRandomSearchCV.

Two workloads, each with the same space, the same 27 candidates (the space is a 27-point grid, which
HalvingRandomSearchCV samples without replacement, so both search exactly these), factor 3 and cv=3:

  svc   SVC searched over growing subsamples: resource="n_samples" (1/27, 1/9, 1/3, all of the rows)
  hgb   HistGradientBoostingClassifier over boosting iterations: resource="max_iter" (9, 27, 81, 243). Ours
        warm-starts, so a model that goes on continues from its trees instead of being refitted at every rung.

scikit-learn runs with n_jobs=2 (joblib processes); ours on a 2-worker LocalCluster (one thread each). Prints
each side's wall time (fit, refit included), its best cross-validated score and the best model's accuracy on
held-out rows, and our/scikit-learn's time ratio.

    python benchmarks/sklearn_halving.py --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, train_test_split
from sklearn.svm import SVC


def workloads(n_samples: int) -> dict:
    X, y = make_classification(n_samples=n_samples, n_features=20, n_informative=8, n_redundant=4, flip_y=0.05,
                               class_sep=0.8, random_state=0)
    data = train_test_split(X, y, test_size=0.25, random_state=0)
    return {
        "svc": dict(
            estimator=SVC(), data=data,
            space={"C": np.logspace(-2, 3, 9).tolist(), "gamma": [0.003, 0.01, 0.03]},
            sklearn=dict(resource="n_samples", min_resources="exhaust"),
            ours=dict(resource="n_samples", n_initial_iter=1, max_iter=27),
        ),
        "hgb": dict(
            estimator=HistGradientBoostingClassifier(early_stopping=False, random_state=0), data=data,
            space={"learning_rate": [0.01, 0.03, 0.1], "max_leaf_nodes": [7, 15, 31],
                   "l2_regularization": [0.0, 0.1, 1.0]},
            sklearn=dict(resource="max_iter", min_resources=9, max_resources=243),
            ours=dict(resource="max_iter", n_initial_iter=9, max_iter=243),
        ),
    }


def run_sklearn(w: dict, seed: int) -> dict:
    X_train, X_test, y_train, y_test = w["data"]
    search = HalvingRandomSearchCV(w["estimator"], w["space"], n_candidates=27, factor=3, cv=3, n_jobs=2,
                                   random_state=seed, **w["sklearn"])
    start = time.perf_counter()
    search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "best_score": search.best_score_, "test": search.score(X_test, y_test)}


def run_ours(w: dict, seed: int, client) -> dict:
    from hypersweep.sklearn import SuccessiveHalvingSearchCV

    X_train, X_test, y_train, y_test = w["data"]
    search = SuccessiveHalvingSearchCV(w["estimator"], w["space"], n_initial_parameters="grid", aggressiveness=3,
                                       cv=3, random_state=seed, **w["ours"])
    start = time.perf_counter()
    search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "best_score": search.best_score_, "test": search.score(X_test, y_test)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=8000)
    parser.add_argument("--workloads", default="svc,hgb")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    all_workloads = workloads(args.n_samples)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        for name in args.workloads.split(","):
            w = all_workloads[name]
            theirs, ours = [], []
            for seed in range(args.repeat):
                theirs.append(run_sklearn(w, seed))
                ours.append(run_ours(w, seed, client))
            t_s = statistics.median(r["seconds"] for r in theirs)
            t_o = statistics.median(r["seconds"] for r in ours)
            print(f"\n{name}: 27 candidates, factor 3, cv=3, {args.repeat} repeats (median seconds)")
            for label, runs, secs in (("scikit-learn", theirs, t_s), ("hypersweep", ours, t_o)):
                print(f"  {label:<13} {secs:6.2f} s  best cv score {max(r['best_score'] for r in runs):.4f}  "
                      f"held-out accuracy {statistics.median(r['test'] for r in runs):.4f}")
            print(f"  time ratio hypersweep / scikit-learn: {t_o / t_s:.2f}")


if __name__ == "__main__":
    main()
