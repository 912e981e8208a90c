"""The data behind each plot, computed from a study's trials (plain dicts and lists, no plotting library).

Every ``*_data(study)`` here feeds the ``plot_*`` function of the same name in `hypersweep.viz.plots`; tests
check these, the figures are drawn from them. They read only the engine's trials (states, values, intermediate
values, timings, workers, brackets), so they work alike for every front end and every storage.

The data of one value per trial (history, slice, contour, parallel coordinates, EDF, importances) takes
``target``, a callable trial -> float to show instead of the objective (``lambda t: t.duration``). A study of
several objectives has no single objective to show, so there ``target`` is required
(``target=lambda t: t.values[0]``); `pareto_front_data` and `hypervolume_history_data` show all of them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hypersweep._validation import invalid
from hypersweep.direction import Direction
from hypersweep.multi_objective import as_losses, hypervolume, pareto_front_mask
from hypersweep.space import Categorical, Float, Int

__all__ = [
    "axis_of",
    "brackets_data",
    "contour_data",
    "edf_data",
    "history_data",
    "default_reference_point",
    "hypervolume_history_data",
    "importances_data",
    "intermediate_data",
    "parallel_coordinate_data",
    "pareto_front_data",
    "slice_data",
    "timeline_data",
]

#: what the data of one value per trial takes as ``target``
Target = Callable[[Any], float]


def _complete(study: Any) -> list[Any]:
    return [t for t in study.trials if t.state.value == "complete" and t.value is not None
            and math.isfinite(t.value)]


def _directions(study: Any) -> list[Direction]:
    """The study's directions, one per objective (objects that know only a ``direction`` have one)."""
    directions = getattr(study, "directions", None)
    return [Direction.of(d) for d in directions] if directions else [Direction.of(study.direction)]


def _check_target(study: Any, target: Target | None) -> None:
    """A study of several objectives has no one value to show: its plots need a ``target``."""
    if target is not None and not callable(target):
        raise invalid("target", target, "a callable (trial -> float) or None", "e.g. target=lambda t: t.duration")
    directions = _directions(study)
    if target is None and len(directions) > 1:
        names = ", ".join(d.value for d in directions)
        raise invalid("target", None, f"a callable (trial -> float) choosing the value to show, for study "
                      f"{study.name!r} of {len(directions)} objectives ({names})",
                      "e.g. target=lambda t: t.values[0], target_name='objective 0'; plot_pareto_front shows "
                      "them all")


def _scored(study: Any, target: Target | None) -> tuple[list[Any], list[float]]:
    """The complete trials with a finite value to show (the objective, or ``target(trial)``), by number, and
    those values."""
    _check_target(study, target)
    if target is None:
        trials = _complete(study)
        return trials, [float(t.value) for t in trials]
    kept, values = [], []
    for t in study.trials:
        if t.state.value != "complete":
            continue
        value = target(t)
        if value is not None and math.isfinite(float(value)):
            kept.append(t)
            values.append(float(value))
    return kept, values


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


def history_data(study: Any, target: Target | None = None, direction: str | Direction | None = None
                 ) -> dict[str, Any]:
    """Objective (or ``target(trial)``) of each complete trial by trial number, and the best so far by
    ``direction``: by default the study's direction, and with a ``target`` none ("best" is None: which way is
    better is known only for the objective, so give ``direction="minimize"`` for a best line of a target)."""
    trials, scored = _scored(study, target)
    if direction is not None:
        chosen: Direction | None = Direction.of(direction)
    else:
        chosen = _directions(study)[0] if target is None else None
    values = np.array(scored, dtype=float)
    best = None
    if chosen is not None:
        best = (np.maximum if chosen.sign > 0 else np.minimum).accumulate(values) if len(values) else values
    return {"number": [t.number for t in trials], "value": values.tolist(),
            "best": None if best is None else best.tolist(), "direction": None if chosen is None else chosen.value}


def intermediate_data(study: Any, objective: int = 0) -> dict[str, Any]:
    """Each trial's reported values by step, with its state (pruned and paused ones included); in a study of
    several objectives, those of objective number ``objective`` (the first by default)."""
    n = len(_directions(study))
    if isinstance(objective, bool) or not isinstance(objective, int) or not 0 <= objective < n:
        raise invalid("objective", objective, f"an objective number from 0 to {n - 1}",
                      f"study {study.name!r} has {n} objective(s); objective=0 shows the first")
    curves = []
    for t in study.trials:
        if t.intermediate:
            steps = sorted(t.intermediate)
            if objective == 0:
                values = [t.intermediate[s] for s in steps]
            else:  # a step reported with one value only has none for the other objectives
                values = [t.intermediate_values[s][objective] if len(t.intermediate_values.get(s, ())) > objective
                          else None for s in steps]
            curves.append({"number": t.number, "state": t.state.value, "step": steps, "value": values})
    return {"curves": curves, "objective": objective, "n_objectives": n}


def _params(study: Any, params: Sequence[str] | None) -> list[str]:
    dims = list(study.space.dims)
    return dims if params is None else [p for p in params if p in dims]


def parallel_coordinate_data(study: Any, params: Sequence[str] | None = None, target: Target | None = None
                             ) -> dict[str, Any]:
    """For each parameter, the complete trials' values (category indexes) and its axis; and their objectives
    (or ``target(trial)``)."""
    trials, values = _scored(study, target)
    space = study.space
    names = _params(study, params)
    dims = []
    for name in names:
        rows = [t for t in trials if name in t.config]
        dims.append({"name": name, "axis": axis_of(space[name]),
                     "values": [_position(space[name], t.config.get(name)) if name in t.config else None
                                for t in trials], "n": len(rows)})
    return {"objective": values, "number": [t.number for t in trials], "dims": dims}


def slice_data(study: Any, params: Sequence[str] | None = None, target: Target | None = None) -> dict[str, Any]:
    """For each parameter, (value, objective or ``target(trial)``, number) of the complete trials that have it."""
    trials, values = _scored(study, target)
    space = study.space
    panels = []
    for name in _params(study, params):
        rows = [(t, v) for t, v in zip(trials, values, strict=True) if name in t.config]
        panels.append({"name": name, "axis": axis_of(space[name]),
                       "x": [_position(space[name], t.config[name]) for t, _ in rows],
                       "value": [v for _, v in rows], "number": [t.number for t, _ in rows]})
    return {"panels": panels}


def contour_data(study: Any, params: Sequence[str] | None = None, resolution: int = 50,
                 target: Target | None = None) -> dict[str, Any]:
    """For each pair of parameters, the trials' points and the objective (or ``target(trial)``) interpolated on
    a grid (None where the points do not surround a grid cell)."""
    from scipy.interpolate import griddata

    trials, values = _scored(study, target)
    space = study.space
    names = _params(study, params)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rows = [(t, v) for t, v in zip(trials, values, strict=True) if a in t.config and b in t.config]
            x = np.array([_numeric(space[a], t.config[a]) for t, _ in rows], dtype=float)
            y = np.array([_numeric(space[b], t.config[b]) for t, _ in rows], dtype=float)
            z = np.array([v for _, v in rows], dtype=float)
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


def importances_data(study: Any, target: Target | None = None, method: str = "fanova",
                     params: Sequence[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """The parameters' importances (see `hypersweep.viz.importances`) for the objective or ``target(trial)``,
    most important first."""
    from hypersweep.viz.importance import importances

    _check_target(study, target)

    ranked = importances(study, method=method, target=target, params=params, seed=seed)
    return {"param": list(ranked), "importance": list(ranked.values()), "method": method}


def edf_data(studies: Any, target: Target | None = None) -> dict[str, Any]:
    """For each study (one or a list), its complete trials' objective values (or ``target(trial)``) sorted, and
    the share of trials at or below each (the empirical distribution function)."""
    studies = studies if isinstance(studies, (list, tuple)) else [studies]
    lines = []
    for study in studies:
        values = np.sort(np.array(_scored(study, target)[1], dtype=float))
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


def _group() -> dict[str, list[Any]]:
    return {"number": [], "config": [], "point": []}


def pareto_front_data(study: Any, targets: Callable[[Any], Sequence[float]] | None = None,
                      target_names: Sequence[str] | None = None, include_dominated: bool = True,
                      include_infeasible: bool = True) -> dict[str, Any]:
    """The complete trials in three groups: the Pareto front (``study.best_trials``: feasible, and no feasible
    trial beats them on every objective), the other feasible trials ("dominated") and the infeasible ones (a
    constraint > 0); each group with its trials' numbers, configs and points (their objective values, or
    ``targets(trial)``: 2 or 3 values, named by ``target_names``), non-finite coordinates as None.

    The front is always the study's own, by its objectives and directions; ``targets`` only changes the axes
    (e.g. ``targets=lambda t: (t.values[0], t.duration)``). Axis names default to "objective 0 (minimize)",
    "objective 1 (maximize)", ...: one per objective."""
    directions = _directions(study)
    n = len(directions)
    if targets is None:
        if n == 1:
            raise invalid("targets", None, f"a callable (trial -> 2 or 3 values) for study {study.name!r} of one "
                          "objective", "e.g. targets=lambda t: (t.value, t.duration), target_names=['loss', "
                          "'seconds']; or create the study with directions=[...] of several objectives")
        if n > 3:
            raise invalid("targets", None, f"a callable (trial -> 2 or 3 values) for study {study.name!r} of {n} "
                          "objectives (a scatter has 2 or 3 axes)",
                          "e.g. targets=lambda t: t.values[:2], target_names=['objective 0', 'objective 1']")
        names = ([f"objective {i} ({d.value})" for i, d in enumerate(directions)] if target_names is None
                 else [str(name) for name in target_names])
        if len(names) != n:
            raise invalid("target_names", target_names, f"one axis title per objective ({n})",
                          "or give targets= to plot other values")
    else:
        if not callable(targets):
            raise invalid("targets", targets, "a callable (trial -> 2 or 3 values) or None",
                          "e.g. targets=lambda t: (t.values[0], t.duration)")
        if target_names is None:
            raise invalid("target_names", None, "one axis title per value targets returns",
                          "e.g. targets=lambda t: (t.values[0], t.duration), target_names=['loss', 'seconds']")
        names = [str(name) for name in target_names]
        if len(names) not in (2, 3):
            raise invalid("target_names", target_names, "2 or 3 axis titles (a 2-D or 3-D scatter)",
                          "and a targets that returns as many values")
    trials = [t for t in study.trials if t.state.value == "complete" and t.has_value and t.values is not None
              and len(t.values) == n]
    feasible = [t for t in trials if t.feasible]
    on_front = (pareto_front_mask(as_losses([t.values for t in feasible], directions)) if feasible
                else np.zeros(0, dtype=bool))
    front = {t.number for t, keep in zip(feasible, on_front, strict=True) if keep}
    groups = {"front": _group(), "dominated": _group(), "infeasible": _group()}
    for t in trials:
        key = "front" if t.number in front else "dominated" if t.feasible else "infeasible"
        if (key == "dominated" and not include_dominated) or (key == "infeasible" and not include_infeasible):
            continue
        point = [float(v) for v in (t.values if targets is None else targets(t))]
        if len(point) != len(names):
            raise ValueError(f"targets returned {len(point)} values for trial {t.number}, and target_names has "
                             f"{len(names)}: give one name per value")
        groups[key]["number"].append(t.number)
        groups[key]["config"].append(dict(t.config))
        groups[key]["point"].append([v if math.isfinite(v) else None for v in point])
    return {"names": names, "dims": len(names), **groups}


def hypervolume_history_data(study: Any, reference_point: Sequence[float] | None = None) -> dict[str, Any]:
    """After each complete trial (by number), the hypervolume of the Pareto front of the feasible complete
    trials so far, bounded by ``reference_point``: one value per objective, in the objectives' own units and
    worse than every value that should count (larger where an objective is minimized, smaller where it is
    maximized); None takes `default_reference_point`. A trial with a non-finite value adds nothing. The volume
    is recomputed only when the front changes."""
    directions = _directions(study)
    n = len(directions)
    if n == 1:
        raise ValueError(f"study {study.name!r} has one objective, so no hypervolume: plot_optimization_history "
                         "shows its best value so far")
    if reference_point is None:
        reference_point = default_reference_point(study)
    try:
        reference = [float(v) for v in reference_point]
    except (TypeError, ValueError):
        reference = []
    if len(reference) != n or not all(math.isfinite(v) for v in reference):
        names = ", ".join(d.value for d in directions)
        raise invalid("reference_point", reference_point, f"{n} finite numbers, one per objective ({names})",
                      f"e.g. reference_point={_worst(study, directions)}: on each objective a value worse than "
                      "every trial that should count")
    ref = as_losses([reference], directions)[0]
    front = np.empty((0, n))
    volume = 0.0
    numbers, volumes = [], []
    for t in study.trials:
        if t.state.value != "complete" or t.values is None or len(t.values) != n:
            continue
        numbers.append(t.number)
        if t.feasible:
            loss = as_losses([t.values], directions)[0]
            if (np.all(np.isfinite(loss)) and np.all(loss < ref)
                    and not np.any(np.all(front <= loss, axis=1))):  # it improves the front
                front = np.vstack([front[~np.all(loss <= front, axis=1)], loss])
                volume = hypervolume(front, ref)
        volumes.append(volume)
    return {"number": numbers, "hypervolume": volumes, "reference_point": reference,
            "directions": [d.value for d in directions]}


def default_reference_point(study: Any) -> list[float]:
    """A reference point for the hypervolume of a study of several objectives: on each objective, the worst
    finite value of its complete trials, moved a tenth of the values' range further out (so the worst trials
    still add volume; a tenth of the value itself, or 1, when every trial has the same value).

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "minimize"], sampler="random", seed=0)
    >>> study.optimize(lambda c: (c["x"], 10 * c["x"]), n_trials=20, progress=False)
    >>> low_x, high_10x = default_reference_point(study)
    >>> xs = [t.values[0] for t in study.trials]
    >>> math.isclose(low_x, min(xs) - 0.1 * (max(xs) - min(xs))), high_10x > 10 * max(xs)
    (True, True)
    """
    directions = _directions(study)
    point = []
    for d, seen in zip(directions, _finite_values(study, directions), strict=True):
        if not seen:
            point.append(1.0 if d.sign < 0 else 0.0)
            continue
        low, high = min(seen), max(seen)
        margin = 0.1 * (high - low) or 0.1 * abs(high) or 1.0
        point.append(high + margin if d.sign < 0 else low - margin)
    return point


def _worst(study: Any, directions: list[Direction]) -> list[float]:
    """An example reference point: the worst value of each objective among the complete trials (1.0 for one
    without a finite value yet)."""
    return [float(f"{(max if d.sign < 0 else min)(seen):.4g}") if seen else 1.0
            for d, seen in zip(directions, _finite_values(study, directions), strict=True)]


def _finite_values(study: Any, directions: list[Direction]) -> list[list[float]]:
    """Per objective, its finite values among the complete trials that have one value per objective."""
    rows = [t.values for t in study.trials if t.state.value == "complete" and t.values is not None
            and len(t.values) == len(directions)]
    return [[float(r[i]) for r in rows if math.isfinite(r[i])] for i in range(len(directions))]
