"""dask-ml's tutorial "Hyperparameter optimization with Dask" (Hyperband on circles + an MLP), on hypersweep.

The tutorial's code, unchanged but for the imports: a 2-D circles problem with 4 noise features, a
``MLPClassifier`` whose layer sizes, activation, L2 penalty and batch size are searched by ``HyperbandSearchCV``
over Dask arrays, with the tutorial's "quick" budget (each model at most 8 ``partial_fit`` calls, the longest
trained seeing the data 4 times). ``--max-iter 15 --passes 15`` is the tutorial's "in practice" budget.

    python examples/hyperband_circles.py
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import numpy as np
import pandas as pd
from distributed import Client
from sklearn.datasets import make_circles
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from hypersweep.sklearn import HyperbandSearchCV, train_test_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-iter", type=int, default=8, help="the tutorial's n_params (8 quick, 15 in practice)")
    parser.add_argument("--passes", type=int, default=4, help="passes over the data of the longest-trained model")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    client = Client(processes=False, threads_per_worker=args.threads, n_workers=1, memory_limit="2GB",
                    dashboard_address=None)
    print(client)

    # --- the data: two circles and four random features ---------------------------------------------------------
    X, y = make_circles(n_samples=30_000, random_state=0, noise=0.09)
    rng = check_random_state(42)
    random_feats = rng.uniform(-1, 1, size=(X.shape[0], 4))
    X = np.hstack((X, random_feats))
    print("X:", X.shape, "classes:", np.unique(y))

    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=5_000, random_state=42)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    # --- the model and its parameters ---------------------------------------------------------------------------
    model = MLPClassifier()
    params = {
        "hidden_layer_sizes": [(24,), (12, 12), (6, 6, 6, 6), (4, 4, 4, 4, 4, 4), (12, 6, 3, 3)],
        "activation": ["relu", "logistic", "tanh"],
        "alpha": np.logspace(-6, -3, num=1000),
        "batch_size": [16, 32, 64, 128, 256, 512],
    }

    # --- the budget: max_iter partial_fit calls, each on `chunks` examples -----------------------------------
    n_examples = args.passes * len(X_train)
    n_params = args.max_iter
    max_iter = n_params  # number of times partial_fit will be called
    chunks = n_examples // n_params  # number of examples each call sees
    print("max_iter:", max_iter, "chunks:", chunks)

    X_train2 = da.from_array(X_train, chunks=chunks)
    y_train2 = da.from_array(y_train, chunks=chunks)

    search = HyperbandSearchCV(model, params, max_iter=max_iter, patience=True, random_state=0)
    print("planned partial_fit calls:", search.metadata["partial_fit_calls"], "models:", search.metadata["n_models"])

    start = time.perf_counter()
    search.fit(X_train2, y_train2, classes=[0, 1, 2, 3])
    print(f"fit in {time.perf_counter() - start:.1f} s")

    print("best_score_:", round(search.best_score_, 4))
    print("best_params_:", search.best_params_)
    print("test score:", round(search.score(X_test, y_test), 4))
    print("partial_fit calls made:", search.metadata_["partial_fit_calls"])

    with pd.option_context("display.width", 160, "display.max_columns", 8):
        cv_results = pd.DataFrame(search.cv_results_)
        print(cv_results[["model_id", "bracket", "partial_fit_calls", "test_score", "rank_test_score",
                          "param_hidden_layer_sizes"]].sort_values("rank_test_score").head())
        history = pd.DataFrame(search.history_)
        print(history[["model_id", "partial_fit_calls", "score", "elapsed_wall_time"]].tail())
    print("models in model_history_:", len(search.model_history_))

    print("predict (NumPy in, NumPy out):", search.predict(X_test)[:10])
    lazy = search.predict(da.from_array(X_test, chunks=1_000))
    print("predict (Dask in, lazy Dask out):", type(lazy).__name__, lazy.compute()[:10])
    client.close()


if __name__ == "__main__":
    main()
