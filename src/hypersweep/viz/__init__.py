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
    plot_hypervolume_history,
    plot_intermediate_values,
    plot_optimization_history,
    plot_parallel_coordinate,
    plot_param_importances,
    plot_pareto_front,
    plot_slice,
    plot_timeline,
)


def serve(target, host: str = "127.0.0.1", port: int = 8080, token: str | None = None) -> None:
    """Serve the live dashboard of ``target`` (a study, a storage or its URL); see `hypersweep.viz.dashboard`."""
    from hypersweep.viz.dashboard import serve as _serve

    _serve(target, host=host, port=port, token=token)

__all__ = [
    "importances",
    "plot_brackets",
    "plot_contour",
    "plot_edf",
    "plot_hypervolume_history",
    "plot_intermediate_values",
    "plot_optimization_history",
    "plot_parallel_coordinate",
    "plot_param_importances",
    "plot_pareto_front",
    "plot_slice",
    "plot_timeline",
    "serve",
]
