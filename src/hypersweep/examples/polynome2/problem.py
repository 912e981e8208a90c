"""The polynome2 search space: width, activation and learning rate of a one-hidden-layer network.

Run `hypersweep show <this module>.Problem` to print it.
"""

from __future__ import annotations

import hypersweep as hs

Problem = hs.Problem(
    {
        "units": (1, 100),  # neurons in the hidden layer (int range)
        "activation": ["identity", "relu", "sigmoid", "tanh"],  # categorical
        "lr": (1e-4, 1.0, "log-uniform"),  # Adam's initial learning rate (float range, log scale)
        "alpha": (1e-6, 1e-1, "log-uniform"),  # L2 penalty
    }
)

# a deliberately weak first guess (a linear model cannot fit a paraboloid): the search must do better
Problem.add_starting_point(units=10, activation="identity", lr=0.01, alpha=1e-4)


if __name__ == "__main__":
    print(Problem)
