"""The data behind each plot, computed from a study's trials (plain dicts and lists, no plotting library).

Every ``*_data(study)`` here feeds the ``plot_*`` function of the same name in `hypersweep.viz.plots`; tests
check these, the figures are drawn from them. They read only the engine's trials (states, values, intermediate
values, timings, workers, brackets), so they work alike for every front end and every storage.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hypersweep.space import Categorical, Float, Int

__all__ = [
    "axis_of",
    "brackets_data",
    "contour_data",
    "edf_data",
    "history_data",
    "importances_data",
    "intermediate_data",
    "parallel_coordinate_data",
    "slice_data",
    "timeline_data",
]


def _complete(study: Any) -> list[Any]:
    return [t for t in study.trials if t.state.value == "complete" and t.value is not None
            and math.isfinite(t.value)]


def axis_of(param: Any) -> dict[str, Any]:
    """How a parameter is drawn: {"type": "log" | "linear" | "category", "labels": [...] for categories}."""
    if isinstance(param, Categorical):
        return {"type": "category", "labels": [str(c) for c in param.choices]}
    if isinstance(param, (Float, Int)) and param.log:
        return {"type": "log"}
    return {"type": "linear"}


def _position(param: Any, value: Any) -> Any:
    """A value where the axis puts it: a category's index, a number as itself."""
    return param.index(value) if isinstance(param, Categorical) else value


def history_data(study: Any) -> dict[str, Any]:
    """Objective of each complete trial by trial number, and the best so far (by the study's direction)."""
    trials = _complete(study)
    numbers = [t.number for t in trials]
    values = np.array([t.value for t in trials], dtype=float)
    if study.direction.sign > 0:
        best = np.maximum.accumulate(values) if len(values) else values
    else:
        best = np.minimum.accumulate(values) if len(values) else values
    return {"number": numbers, "value": values.tolist(), "best": best.tolist(),
            "direction": study.direction.value}


def intermediate_data(study: Any) -> dict[str, Any]:
    """Each trial's reported values by step, with its state (pruned and paused ones included)."""
    curves = []
    for t in study.trials:
        if t.intermediate:
            steps = sorted(t.intermediate)
            curves.append({"number": t.number, "state": t.state.value, "step": steps,
                           "value": [t.intermediate[s] for s in steps]})
    return {"curves": curves}


def _params(study: Any, params: Sequence[str] | None) -> list[str]:
    dims = list(study.space.dims)
    return dims if params is None else [p for p in params if p in dims]


def parallel_coordinate_data(study: Any, params: Sequence[str] | None = None) -> dict[str, Any]:
    """For each parameter, the complete trials' values (category indexes) and its axis; and their objectives."""
    trials = _complete(study)
    space = study.space
    names = _params(study, params)
    dims = []
    for name in names:
        rows = [t for t in trials if name in t.config]
        dims.append({"name": name, "axis": axis_of(space[name]),
                     "values": [_position(space[name], t.config.get(name)) if name in t.config else None
                                for t in trials], "n": len(rows)})
    return {"objective": [t.value for t in trials], "number": [t.number for t in trials], "dims": dims}


def slice_data(study: Any, params: Sequence[str] | None = None) -> dict[str, Any]:
    """For each parameter, (value, objective, number) of the complete trials that have it."""
    trials = _complete(study)
    space = study.space
    panels = []
    for name in _params(study, params):
        rows = [t for t in trials if name in t.config]
        panels.append({"name": name, "axis": axis_of(space[name]),
                       "x": [_position(space[name], t.config[name]) for t in rows],
                       "value": [t.value for t in rows], "number": [t.number for t in rows]})
    return {"panels": panels}


def contour_data(study: Any, params: Sequence[str] | None = None, resolution: int = 50) -> dict[str, Any]:
    """For each pair of parameters, the trials' points and the objective interpolated on a grid (None where
    the points do not surround a grid cell)."""
    from scipy.interpolate import griddata

    trials = _complete(study)
    space = study.space
    names = _params(study, params)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rows = [t for t in trials if a in t.config and b in t.config]
            x = np.array([_numeric(space[a], t.config[a]) for t in rows], dtype=float)
            y = np.array([_numeric(space[b], t.config[b]) for t in rows], dtype=float)
            z = np.array([t.value for t in rows], dtype=float)
            grid = None
            if len(rows) >= 4 and np.ptp(x) > 0 and np.ptp(y) > 0:
                gx, gy = np.linspace(x.min(), x.max(), resolution), np.linspace(y.min(), y.max(), resolution)
                try:
                    zz = griddata((x, y), z, tuple(np.meshgrid(gx, gy)), method="linear")
                except Exception:  # degenerate layouts (all points on a line): the scatter still shows
                    zz = None
                if zz is not None:
                    grid = {"x": gx.tolist(), "y": gy.tolist(),
                            "z": [[None if np.isnan(v) else float(v) for v in row] for row in zz]}
            pairs.append({"x_name": a, "y_name": b, "x_axis": axis_of(space[a]), "y_axis": axis_of(space[b]),
                          "x": _shown(space[a], x), "y": _shown(space[b], y), "value": z.tolist(), "grid": grid})
    return {"pairs": pairs}


def _numeric(param: Any, value: Any) -> float:
    """Where interpolation puts a value: log10 on a log axis, the index of a category."""
    if isinstance(param, Categorical):
        return float(param.index(value))
    return math.log10(value) if getattr(param, "log", False) else float(value)


def _shown(param: Any, x: np.ndarray) -> list[float]:
    return (10**x).tolist() if getattr(param, "log", False) and not isinstance(param, Categorical) else x.tolist()


def importances_data(study: Any, target: Callable[[Any], float] | None = None, method: str = "fanova",
                     params: Sequence[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """The parameters' importances (see `hypersweep.viz.importances`), most important first."""
    from hypersweep.viz.importance import importances

    ranked = importances(study, method=method, target=target, params=params, seed=seed)
    return {"param": list(ranked), "importance": list(ranked.values()), "method": method}


def edf_data(studies: Any) -> dict[str, Any]:
    """For each study (one or a list), its complete trials' objective values sorted, and the share of trials
    at or below each (the empirical distribution function)."""
    studies = studies if isinstance(studies, (list, tuple)) else [studies]
    lines = []
    for study in studies:
        values = np.sort(np.array([t.value for t in _complete(study)], dtype=float))
        share = (np.arange(1, len(values) + 1) / len(values)) if len(values) else values
        lines.append({"study": study.name, "value": values.tolist(), "share": share.tolist()})
    return {"lines": lines}


def timeline_data(study: Any) -> dict[str, Any]:
    """Each started trial's worker, start, end (now for running ones) and state: idle workers and stragglers
    show as gaps and long bars."""
    from datetime import datetime

    now = datetime.now()
    bars = []
    for t in study.trials:
        if t.datetime_start is None:
            continue
        bars.append({"number": t.number, "worker": t.worker or "?", "start": t.datetime_start,
                     "end": t.datetime_complete or now, "state": t.state.value})
    return {"bars": bars}


def brackets_data(study: Any) -> dict[str, Any]:
    """For Hyperband / successive halving studies (trials with a "bracket"): per bracket, how many models
    reached each number of steps, and where each model stopped (its steps and state)."""
    per: dict[Any, list[Any]] = defaultdict(list)
    for t in study.trials:
        bracket = t.system_attrs.get("bracket")
        if bracket is not None:
            per[bracket].append(t)
    brackets = []
    for bracket in sorted(per, key=lambda b: (str(type(b)), b)):
        models = [{"number": t.number, "steps": max(t.intermediate) if t.intermediate else 0,
                   "state": t.state.value, "value": t.value} for t in per[bracket]]
        levels = sorted({m["steps"] for m in models})
        reached = [sum(1 for m in models if m["steps"] >= level) for level in levels]
        brackets.append({"bracket": bracket, "models": models, "steps": levels, "reached": reached})
    return {"brackets": brackets}
