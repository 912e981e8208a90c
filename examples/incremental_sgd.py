"""Incremental learning: train a scikit-learn estimator on a Dask array one block at a time.

The "Incremental learning" tutorial of dask-ml (dask-examples, machine-learning/incremental.ipynb), on
hypersweep.sklearn: make a classification problem of 100,000 rows and 100 features in 10 blocks, split it,
wrap ``SGDClassifier`` in `Incremental`, fit it with one pass of ``partial_fit`` over the blocks, make more
passes, then predict and score block by block. Scikit-learn does the computation; Dask moves the data.

usage: python examples/incremental_sgd.py [--passes 10]

Runs in seconds on two cores. Without ``dask.persist`` (for data larger than memory) everything works the
same, recomputing the blocks at each pass.
"""

from __future__ import annotations

import argparse

import dask
import dask.array as da
from dask.distributed import Client
from sklearn.linear_model import SGDClassifier

from hypersweep.sklearn import Incremental, make_classification, train_test_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=10, help="partial_fit passes after fit")
    args = parser.parse_args()

    # Setup Dask: a Client, here with its workers in this process
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as client:
        print(client)

        # Create data: 100,000 examples and 100 features, in blocks of 10,000 rows
        n, d = 100_000, 100
        X, y = make_classification(n_samples=n, n_features=d, chunks=n // 10, flip_y=0.2, random_state=0)
        print(X)

        # Split data for training and testing: each block is split on its own (dask-ml's default: 10% test)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.1, random_state=0)
        print(X_train)

        # Persist data in memory: it fits, and each pass then reads it from the workers' memory
        X_train, X_test, y_train, y_test = dask.persist(X_train, X_test, y_train, y_test)

        # Precompute the classes: partial_fit needs them all on its first call
        classes = da.unique(y_train).compute()
        print(repr(classes))

        # Create the scikit-learn model and wrap it: Incremental manages the data, SGDClassifier learns
        est = SGDClassifier(loss="log_loss", penalty="l2", tol=1e-3, random_state=0)
        inc = Incremental(est, scoring="accuracy", random_state=0)

        # Model training: fit is one pass over the blocks, one partial_fit call per block
        print(inc.fit(X_train, y_train, classes=classes))
        print(inc.score(X_test, y_test))

        # Pass over the training data many times: each partial_fit call is one more pass
        est = SGDClassifier(loss="log_loss", penalty="l2", tol=0e-3, random_state=0)
        inc = Incremental(est, scoring="accuracy", random_state=0)
        for _ in range(args.passes):
            inc.partial_fit(X_train, y_train, classes=classes)
            print("Score:", inc.score(X_test, y_test))

        # Predict and score: lazy Dask arrays, computed block by block
        print(inc.predict(X_test))  # predict produces lazy Dask arrays
        print(repr(inc.predict(X_test)[:100].compute()))  # call compute to get results
        print(inc.score(X_test, y_test))


if __name__ == "__main__":
    main()
