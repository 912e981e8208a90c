"""Data of the {{name}} problem, split into training and validation sets.

Replace the generated data with your own; keep the ``((x_train, y_train), (x_valid, y_valid))`` shape.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_friedman1

Split = tuple[np.ndarray, np.ndarray]


def load_data(size: int = 1000, valid_fraction: float = 0.33, seed: int = 0) -> tuple[Split, Split]:
    """``((x_train, y_train), (x_valid, y_valid))``: Friedman's regression benchmark #1 with some noise."""
    x, y = make_friedman1(n_samples=size, noise=0.5, random_state=seed)
    n_train = size - int(round(size * valid_fraction))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


if __name__ == "__main__":
    (x_train, y_train), (x_valid, y_valid) = load_data()
    print(f"train: x {x_train.shape}, y {y_train.shape}; valid: x {x_valid.shape}, y {y_valid.shape}")
