"""The {{name}} search space: the hyperparameters `model_run.run` reads from its config.

Shorthand: (low, high) ints or floats, (low, high, "log-uniform"), [choices]; or hs.Int / hs.Float / hs.Categorical.
"""

from __future__ import annotations

import hypersweep as hs

Problem = hs.Problem(
    {
        "n_estimators": (10, 300),
        "learning_rate": (1e-3, 1.0, "log-uniform"),
        "max_depth": (1, 6),
        "subsample": (0.5, 1.0),
    }
)
Problem.add_starting_point(n_estimators=100, learning_rate=0.1, max_depth=3, subsample=1.0)


if __name__ == "__main__":
    print(Problem)
