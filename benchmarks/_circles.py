"""The workload of dask-ml's Hyperband tutorial, shared by both sides of the Hyperband comparisons.

Source: the dask-examples notebook "Hyperparameter optimization with Dask"
(https://github.com/dask/dask-examples, ``machine-learning/hyperparam-opt.ipynb``, unchanged in substance
since 2019, last edited in commit 5a9bd2b of 2022-05-05; rendered at
https://examples.dask.org/machine-learning/hyperparam-opt.html). What the tutorial does:

- **Data.** ``make_circles(n_samples=30_000, random_state=0, noise=0.09)``: two noisy concentric circles in
  2-D, labels 0 and 1. Four uninformative features, uniform on [-1, 1] from ``check_random_state(42)``, are
  stacked after the two real ones (6 features). ``train_test_split(X, y, test_size=5_000, random_state=42)``
  leaves 25,000 training and 5,000 test rows; a ``StandardScaler`` fitted on the training rows scales both.
- **Model and space.** ``MLPClassifier()`` with default settings, and this space (lists are sampled
  uniformly; there are no scipy distributions in it, ``alpha`` is a 1,000-point log-spaced grid)::

      hidden_layer_sizes: [(24,), (12, 12), (6, 6, 6, 6), (4, 4, 4, 4, 4, 4), (12, 6, 3, 3)]
      activation:         ["relu", "logistic", "tanh"]
      alpha:              np.logspace(-6, -3, num=1000)
      batch_size:         [16, 32, 64, 128, 256, 512]

- **Budget.** ``n_examples = 4 * len(X_train)`` (the longest-trained model sees 4 passes of the data) and
  ``n_params = 8`` "for quick response" (``15 * len(X_train)`` and ``15`` suggested for a real search);
  then ``max_iter = n_params`` (``partial_fit`` calls of the longest-trained model) and
  ``chunks = n_examples // n_params`` (rows per ``partial_fit`` call, the Dask chunk size of the training
  arrays: ``da.from_array(X_train, chunks=chunks)``).
- **Search.** ``HyperbandSearchCV(model, params, max_iter=max_iter, patience=True)`` (no ``random_state``),
  ``search.fit(X_train2, y_train2, classes=[0, 1, 2, 3])`` on a ``Client(processes=False,
  threads_per_worker=4, n_workers=1, memory_limit='2GB')``, then ``search.score(X_test, y_test)``.
  Note ``classes=[0, 1, 2, 3]`` although the labels are only 0 and 1: the network gets four output units.
  :data:`CLASSES` keeps that, so both sides train the same networks.

This module reproduces the data, the space and the budget arithmetic exactly (``data(0)`` is the tutorial's
data bit for bit). It imports only NumPy and scikit-learn (so SciPy), because it runs in two environments:
the project's and the pinned dask-ml one (``benchmarks/_peers.py``).
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

N_SAMPLES = 30_000
NOISE = 0.09
N_RANDOM_FEATURES = 4
TEST_SIZE = 5_000
#: What the tutorial passes to ``fit(..., classes=...)`` (the labels themselves are only 0 and 1).
CLASSES = (0, 1, 2, 3)
#: The tutorial's two settings: (max_iter, passes) = (n_params, n_examples / len(X_train)).
QUICK = (8, 4)
LONG = (15, 15)


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, X_test, y_train, y_test)`` as NumPy arrays (25,000 x 6 and 5,000 x 6, scaled).

    ``seed=0`` is the tutorial's data exactly (circles seeded 0, random features and split seeded 42);
    another seed shifts all three seeds by ``seed``.
    """
    X, y = make_circles(n_samples=N_SAMPLES, random_state=seed, noise=NOISE)
    rng = check_random_state(42 + seed)
    random_feats = rng.uniform(-1, 1, size=(X.shape[0], N_RANDOM_FEATURES))
    X = np.hstack((X, random_feats))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=42 + seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def params() -> dict:
    """The tutorial's ``MLPClassifier`` search space (a new dict of new lists on every call)."""
    return {
        "hidden_layer_sizes": [
            (24,),
            (12, 12),
            (6, 6, 6, 6),
            (4, 4, 4, 4, 4, 4),
            (12, 6, 3, 3),
        ],
        "activation": ["relu", "logistic", "tanh"],
        "alpha": np.logspace(-6, -3, num=1000),
        "batch_size": [16, 32, 64, 128, 256, 512],
    }


def budget(max_iter: int, passes: int, n_train: int) -> dict:
    """The tutorial's rule of thumb: ``max_iter = n_params`` and ``chunks = n_examples // n_params``.

    ``max_iter`` is the tutorial's ``n_params`` (hyperparameter combinations to sample, and ``partial_fit``
    calls of the longest-trained model), ``passes`` the number of passes through the training data that
    model makes (``n_examples = passes * n_train``), ``n_train`` ``len(X_train)``.

    >>> budget(8, 4, 25_000)
    {'max_iter': 8, 'chunks': 12500}
    >>> budget(15, 15, 25_000)
    {'max_iter': 15, 'chunks': 25000}
    """
    if max_iter < 1 or passes < 1 or n_train < 1:
        raise ValueError(f"max_iter, passes and n_train must be >= 1, got {max_iter}, {passes}, {n_train}")
    n_examples = passes * n_train
    n_params = max_iter
    return {"max_iter": n_params, "chunks": n_examples // n_params}
