"""Looking at a study: plots (plotly) and parameter importances, for every front end's studies.

>>> import hypersweep as hs
>>> from hypersweep.viz import importances
>>> study = hs.create_study({"x": (-1.0, 1.0)}, sampler="random", seed=0)
>>> study.optimize(lambda c: c["x"] ** 2, n_trials=10, progress=False)
>>> importances(study)
{'x': 1.0}

The figures need plotly (``pip install 'hypersweep[viz]'``); the data behind them (`hypersweep.viz.data`)
and the importances do not.
"""

from __future__ import annotations

from hypersweep.viz.importance import importances
from hypersweep.viz.plots import (
    plot_brackets,
    plot_contour,
    plot_edf,
    plot_intermediate_values,
    plot_optimization_history,
    plot_parallel_coordinate,
    plot_param_importances,
    plot_slice,
    plot_timeline,
)

__all__ = [
    "importances",
    "plot_brackets",
    "plot_contour",
    "plot_edf",
    "plot_intermediate_values",
    "plot_optimization_history",
    "plot_parallel_coordinate",
    "plot_param_importances",
    "plot_slice",
    "plot_timeline",
]
