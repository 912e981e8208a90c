"""dask-ml's "Scale scikit-learn for small data problems" tutorial as a script, on hypersweep.

1. A grid search over a text pipeline (counts, tf-idf, a linear SVM trained by SGD) on a Dask cluster of two
   workers. `hypersweep.sklearn.GridSearchCV` fits each distinct vectorizer (and vectorizer + tf-idf) once per
   fold and shares it between the candidates that use it; the results are scikit-learn's.
2. `hypersweep.sklearn.ParallelPostFit` on the best model: trained in memory on the small training set, it
   predicts lazily, block by block, over a Dask array of documents far larger than the training set.

The documents are *generated* (``benchmarks/_text.py``: four topics with their own words and phrases among
words every topic shares), not the tutorial's 20 newsgroups, which would need a download.

usage: python examples/distributed_grid_search.py [--n-docs 300] [--grid full|tutorial] [--blocks 16]
                                                  [--block-size 2500]

``--grid full`` (the default) is the tutorial's grid with its commented-out parameters switched on (384
candidates, 1,152 fits); ``--grid tutorial`` is the 8-candidate grid the tutorial runs. About a minute on two
cores with the defaults.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import _text  # noqa: E402  (the generated corpus, the pipeline and the grid)

TUTORIAL_GRID = {
    "tfidf__use_idf": (True, False),
    "tfidf__norm": ("l1", "l2"),
    "clf__alpha": (0.00001, 0.000001),
}


def block(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` new generated documents (one block of the large array, a 1-D object array) and their labels."""
    docs, labels = _text.corpus(size, seed)
    return np.array(docs, dtype=object), labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-docs", type=int, default=300, help="training documents")
    parser.add_argument("--grid", choices=("full", "tutorial"), default="full")
    parser.add_argument("--blocks", type=int, default=16, help="blocks of the large array of documents")
    parser.add_argument("--block-size", type=int, default=2500, help="documents per block")
    args = parser.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*Port 8787 is already in use.*")

    import dask
    import dask.array as da
    import pandas as pd
    from distributed import Client

    from hypersweep.sklearn import GridSearchCV, ParallelPostFit

    with Client(n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        print(f"client: {len(client.nthreads())} workers, {sum(client.nthreads().values())} threads")
        docs, labels = _text.corpus(args.n_docs, seed=0)
        print(f"{len(docs)} generated documents, {len(set(labels.tolist()))} categories (a stand-in for 20 "
              "newsgroups, which needs a download)")

        # --- distributed training: the grid search runs on the active Client --------------------------
        grid = _text.grid() if args.grid == "full" else TUTORIAL_GRID
        search = GridSearchCV(_text.pipeline(), grid, cv=3)
        start = time.perf_counter()
        search.fit(docs, labels)
        n = len(search.cv_results_["params"])
        print(f"grid search: {n} candidates x 3 folds = {3 * n} fits in {time.perf_counter() - start:.1f} s; "
              f"distinct upstream fits: {search.step_fits_}")
        print(f"best score: {search.best_score_:.4f}")
        print(f"best params: {search.best_params_}")
        table = pd.DataFrame(search.cv_results_)
        shown = ["rank_test_score", "mean_test_score", "std_test_score",
                 *[c for c in table.columns if c.startswith("param_")]]
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(table.sort_values("rank_test_score", kind="stable")[shown].head(5).to_string(index=False))
        print(f"the study's record: {len(search.study_.trials)} trials, best value {search.study_.best_value:.4f}")

        # --- parallel, distributed prediction: a small model over a large lazy array ------------------
        clf = ParallelPostFit(search.best_estimator_, predict_meta=np.array([], dtype=labels.dtype))
        clf.fit(docs, labels)
        seeds = range(1000, 1000 + args.blocks)
        size = args.block_size
        parts = [dask.delayed(block, nout=2)(s, size) for s in seeds]
        big_docs = da.concatenate([da.from_delayed(d, shape=(size,), dtype=object) for d, _ in parts])
        big_labels = da.concatenate([da.from_delayed(y, shape=(size,), dtype=labels.dtype) for _, y in parts])
        print(f"large array of documents: {big_docs.shape[0]} documents in {big_docs.numblocks[0]} blocks "
              "(generated on the workers)")
        predictions = clf.predict(big_docs)
        print(f"ParallelPostFit.predict (lazy): {predictions!r}")
        start = time.perf_counter()
        first, accuracy = dask.compute(predictions[:10], (predictions == big_labels).mean())  # one pass
        print(f"first predictions: {first.tolist()}")
        in_memory = search.predict(list(block(seeds[0], size)[0][:10]))
        print(f"same as the in-memory best model's: {bool(np.array_equal(first, in_memory))}")
        print(f"accuracy on the {big_docs.shape[0]} new documents: {float(accuracy):.4f} "
              f"({time.perf_counter() - start:.1f} s, block by block on the cluster)")


if __name__ == "__main__":
    main()
