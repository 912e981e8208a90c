"""Data of the polynome2 problem: points x in [-10, 10]^10 and targets y = -x·x, split into train/validation.

Generated from a fixed seed, so every evaluation of a search sees the same data.
"""

from __future__ import annotations

import numpy as np

Split = tuple[np.ndarray, np.ndarray]


def load_data(dim: int = 10, size: int = 3000, valid_fraction: float = 0.33, seed: int = 2018) -> tuple[Split, Split]:
    """``((x_train, y_train), (x_valid, y_valid))``, with ``y = -sum(x**2)`` for each row of ``x``.

    >>> (x_train, y_train), (x_valid, y_valid) = load_data()
    >>> x_train.shape, y_valid.shape
    ((2010, 10), (990,))
    >>> bool(y_train.max() <= 0)
    True
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-10.0, 10.0, size=(size, dim))
    y = -np.sum(x * x, axis=1)
    n_train = size - int(round(size * valid_fraction))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


if __name__ == "__main__":
    (x_train, y_train), (x_valid, y_valid) = load_data()
    print(f"train: x {x_train.shape}, y {y_train.shape}; valid: x {x_valid.shape}, y {y_valid.shape}")
