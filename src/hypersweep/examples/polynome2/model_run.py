"""Train one polynome2 model: a scikit-learn MLPRegressor built from a config, scored by validation R².

`run(config)` is the objective of the search (maximize); it returns the score and metadata about the fit.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .load_data import load_data

# scikit-learn's name for the logistic sigmoid is "logistic"
ACTIVATIONS = {"identity": "identity", "relu": "relu", "sigmoid": "logistic", "tanh": "tanh"}
EPOCHS = 100
BATCH_SIZE = 128


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Fit on the training split, return ``{"objective": validation R², "metadata": {...}}``.

    Inputs and targets are standardized with statistics of the training split only; training stops after
    ``EPOCHS`` passes or when the training loss stops improving. A diverged fit fails its trial.

    >>> result = run({"units": 10, "activation": "identity", "lr": 0.01, "alpha": 1e-4})
    >>> result["objective"] < 0.1  # a linear model cannot fit y = -x·x
    True
    """
    (x_train, y_train), (x_valid, y_valid) = load_data()
    x_scaler = StandardScaler().fit(x_train)
    y_mean, y_std = y_train.mean(), y_train.std()
    model = MLPRegressor(
        hidden_layer_sizes=(int(config["units"]),),
        activation=ACTIVATIONS[config["activation"]],
        learning_rate_init=float(config["lr"]),
        alpha=float(config.get("alpha", 1e-4)),
        batch_size=BATCH_SIZE,
        max_iter=EPOCHS,
        random_state=0,
    )
    start = time.perf_counter()
    # one BLAS thread per evaluation: parallel workers share the cores instead of fighting over them
    with threadpool_limits(1), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(x_scaler.transform(x_train), (y_train - y_mean) / y_std)
        except ValueError as exc:  # scikit-learn refuses to go on once the weights become inf/NaN
            if "non-finite" not in str(exc):
                raise
            return {"objective": "F_diverged", "metadata": {"fit_seconds": time.perf_counter() - start}}
        fit_seconds = time.perf_counter() - start
        y_pred = model.predict(x_scaler.transform(x_valid)) * y_std + y_mean
        train_pred = model.predict(x_scaler.transform(x_train)) * y_std + y_mean
    if not np.all(np.isfinite(y_pred)):
        return {"objective": "F_diverged", "metadata": {"fit_seconds": fit_seconds}}
    return {
        "objective": float(r2_score(y_valid, y_pred)),
        "metadata": {
            "train_r2": float(r2_score(y_train, train_pred)),
            "epochs": int(model.n_iter_),
            "fit_seconds": round(fit_seconds, 4),
        },
    }


if __name__ == "__main__":
    from .problem import Problem

    for point in Problem.starting_points:
        print(point, "->", run(point))
