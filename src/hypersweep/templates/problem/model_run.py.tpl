"""Train and score one configuration of the {{name}} problem (here a gradient-boosting regressor).

`run(config)` is the objective of the search: it returns the validation R² (maximize) and metadata.
"""

from __future__ import annotations

import time
from typing import Any

from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import r2_score

from .load_data import load_data


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Fit on the training split with the config's hyperparameters, return the validation R²."""
    (x_train, y_train), (x_valid, y_valid) = load_data()
    model = GradientBoostingRegressor(
        n_estimators=int(config["n_estimators"]),
        learning_rate=float(config["learning_rate"]),
        max_depth=int(config["max_depth"]),
        subsample=float(config["subsample"]),
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - start
    return {
        "objective": float(r2_score(y_valid, model.predict(x_valid))),
        "metadata": {"train_r2": float(model.score(x_train, y_train)), "fit_seconds": round(fit_seconds, 4)},
    }


if __name__ == "__main__":
    from .problem import Problem

    for point in Problem.starting_points:
        print(point, "->", run(point))
