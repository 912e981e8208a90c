"""A HyperbandSearchCV kept in SQLite whose estimator counts its partial_fit calls in a file: run by
test_resume.py, killed halfway, and run again with resume=True."""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

PARAMS = {"alpha": np.logspace(-5, 0, 20).tolist(), "penalty": ["l2", "l1"]}


COUNTER = {"path": "", "pause": 0.0}


class CountingSGD(SGDClassifier):
    """SGDClassifier that appends a line to ``COUNTER["path"]`` at each partial_fit (and sleeps a little)."""

    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        time.sleep(COUNTER["pause"])
        with open(COUNTER["path"], "a") as f:
            f.write("1\n")
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


def search(counter: str, storage: str | None, resume: bool, pause: float):
    from hypersweep.sklearn import HyperbandSearchCV

    COUNTER.update(path=counter, pause=pause)
    X, y = make_classification(n_samples=600, n_features=6, random_state=0)
    s = HyperbandSearchCV(CountingSGD(), PARAMS, max_iter=9, random_state=0,
                          storage=storage, study_name=None if storage is None else "hb", resume=resume)
    return s.fit(X, y, classes=[0, 1])


if __name__ == "__main__":
    counter, storage, resume, pause = sys.argv[1], sys.argv[2], sys.argv[3] == "1", float(sys.argv[4])
    if len(sys.argv) > 5 and sys.argv[5] == "dask":  # on an in-process Dask cluster: models live on its worker
        from distributed import Client

        Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None)
    search(counter, storage if storage != "-" else None, resume, pause)
    print("done")
