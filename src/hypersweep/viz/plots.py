"""Plotly figures of a study, each drawn from the data of `hypersweep.viz.data` (interactive; ``.show()``,
``.write_html(...)``, shown inline in Jupyter). A study with no finished trial gets an empty figure that says so.

>>> import hypersweep as hs
>>> from hypersweep.viz import plot_optimization_history
>>> study = hs.create_study({"x": (-1.0, 1.0)}, sampler="random", seed=0)
>>> study.optimize(lambda c: c["x"] ** 2, n_trials=5, progress=False)
>>> [trace.name for trace in plot_optimization_history(study).data]
['objective', 'best so far']

Every plot of one value per trial takes ``target`` (a callable trial -> float) and ``target_name`` to show
something else than the objective; a study of several objectives needs one (``target=lambda t: t.values[0]``),
and has `plot_pareto_front` and `plot_hypervolume_history` for all its objectives at once.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from hypersweep.direction import Direction
from hypersweep.viz import data as _data

__all__ = [
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
]

#: from this many points on, scatter plots are drawn with WebGL
_WEBGL_FROM = 2000
#: the traces of `plot_pareto_front`, drawn in this order (the front on top): group, name, marker
_PARETO_TRACES = (
    ("infeasible", "infeasible", {"color": "#c7c7c7", "size": 6, "symbol": "x"}),
    ("dominated", "dominated", {"color": "#aec7e8", "size": 6, "opacity": 0.6}),
    ("front", "Pareto front", {"color": "#d62728", "size": 9, "line": {"color": "black", "width": 1}}),
)
_STATE_COLORS = {"complete": "#1f77b4", "pruned": "#ff7f0e", "paused": "#9467bd", "failed": "#d62728",
                 "running": "#2ca02c", "waiting": "#7f7f7f"}


def _go() -> Any:
    from hypersweep._model_search import require

    return require("plotly.graph_objects", "viz")


def _empty(title: str, message: str = "no finished trial yet") -> Any:
    go = _go()
    figure = go.Figure(layout={"title": title})
    figure.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _axis(axis: dict[str, Any]) -> dict[str, Any]:
    if axis["type"] == "category":
        return {"tickmode": "array", "tickvals": list(range(len(axis["labels"]))), "ticktext": axis["labels"]}
    return {"type": axis["type"]}


def plot_optimization_history(study: Any, *, target: Callable[[Any], float] | None = None,
                              target_name: str = "objective", direction: str | Direction | None = None) -> Any:
    """Objective (or ``target(trial)``) of each complete trial, and the best so far: by the study's direction,
    or by ``direction`` ("minimize" / "maximize"); with a ``target`` and no ``direction``, no best line (which
    way a target is better is not known)."""
    d = _data.history_data(study, target=target, direction=direction)
    title = "Optimization history"
    if not d["number"]:
        return _empty(title)
    go = _go()
    figure = go.Figure(layout={"title": title, "xaxis": {"title": "trial"}, "yaxis": {"title": target_name}})
    many = len(d["number"]) > _WEBGL_FROM
    points = go.Scattergl if many else go.Scatter  # thousands of points: drawn by WebGL, not as SVG nodes
    figure.add_trace(points(x=d["number"], y=d["value"], mode="markers", name=target_name))
    if d["best"] is not None:
        figure.add_scatter(x=d["number"], y=d["best"], mode="lines", name="best so far", line={"shape": "hv"})
    return figure


def plot_intermediate_values(study: Any, *, objective: int = 0, target_name: str | None = None) -> Any:
    """Every trial's reported values by step, coloured by state (pruned and paused trials visible); in a study
    of several objectives, those of objective number ``objective`` (the y axis named ``target_name``)."""
    d = _data.intermediate_data(study, objective=objective)
    title = "Intermediate values"
    if not d["curves"]:
        return _empty(title, "no trial reported intermediate values yet")
    go = _go()
    label = target_name or (f"objective {objective}" if d["n_objectives"] > 1 else "value")
    figure = go.Figure(layout={"title": title, "xaxis": {"title": "step"}, "yaxis": {"title": label}})
    for curve in d["curves"]:
        figure.add_scatter(x=curve["step"], y=curve["value"], mode="lines+markers",
                           name=f"trial {curve['number']} ({curve['state']})",
                           line={"color": _STATE_COLORS.get(curve["state"], "#7f7f7f")}, showlegend=False)
    return figure


def plot_parallel_coordinate(study: Any, params: Sequence[str] | None = None, *,
                             target: Callable[[Any], float] | None = None, target_name: str = "objective") -> Any:
    """One vertical axis per parameter (log and categorical axes as such) and the objective (or
    ``target(trial)``)."""
    d = _data.parallel_coordinate_data(study, params, target=target)
    title = "Parallel coordinates"
    if not d["objective"]:
        return _empty(title)
    go = _go()
    import math

    dimensions = [{"label": target_name, "values": d["objective"]}]
    for dim in d["dims"]:
        axis = dim["axis"]
        values = dim["values"]
        entry: dict[str, Any] = {"label": dim["name"]}
        if axis["type"] == "category":
            entry.update(values=values, tickvals=list(range(len(axis["labels"]))), ticktext=axis["labels"])
        elif axis["type"] == "log":
            entry.update(values=[math.log10(v) if v is not None else None for v in values],
                         label=f"{dim['name']} (log10)")
        else:
            entry["values"] = values
        dimensions.append(entry)
    line = {"color": d["objective"], "colorscale": "Viridis", "showscale": True, "colorbar": {"title": target_name}}
    return go.Figure(go.Parcoords(line=line, dimensions=dimensions), layout={"title": title})


def plot_slice(study: Any, params: Sequence[str] | None = None, *, target: Callable[[Any], float] | None = None,
               target_name: str = "objective") -> Any:
    """Objective (or ``target(trial)``) against each parameter, one panel per parameter."""
    d = _data.slice_data(study, params, target=target)
    title = "Slice"
    if not d["panels"] or not any(p["x"] for p in d["panels"]):
        return _empty(title)
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(d["panels"]), shared_yaxes=True,
                           subplot_titles=[p["name"] for p in d["panels"]])
    for i, panel in enumerate(d["panels"], start=1):
        figure.add_scatter(x=panel["x"], y=panel["value"], mode="markers", row=1, col=i, name=panel["name"],
                           marker={"color": panel["number"], "colorscale": "Blues"}, showlegend=False)
        figure.update_xaxes(_axis(panel["axis"]), row=1, col=i)
    figure.update_yaxes(title=target_name, row=1, col=1)
    figure.update_layout(title=title)
    return figure


def plot_contour(study: Any, params: Sequence[str] | None = None, *, target: Callable[[Any], float] | None = None,
                 target_name: str = "objective") -> Any:
    """The objective (or ``target(trial)``) over pairs of parameters (each pair of ``params``, all searched
    parameters by default), interpolated."""
    d = _data.contour_data(study, params, target=target)
    title = "Contour"
    pairs = [p for p in d["pairs"] if p["x"]]
    if not pairs:
        return _empty(title, "no finished trial yet (or fewer than two searched parameters)")
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(pairs), subplot_titles=[f"{p['x_name']} / {p['y_name']}" for p in pairs])
    for i, pair in enumerate(pairs, start=1):
        grid = pair["grid"]
        if grid is not None:
            gx = [10**v for v in grid["x"]] if pair["x_axis"]["type"] == "log" else grid["x"]
            gy = [10**v for v in grid["y"]] if pair["y_axis"]["type"] == "log" else grid["y"]
            figure.add_contour(x=gx, y=gy, z=grid["z"], colorscale="Viridis", showscale=i == 1, name=target_name,
                               colorbar={"title": target_name}, row=1, col=i)
        figure.add_scatter(x=pair["x"], y=pair["y"], mode="markers", marker={"color": "black", "size": 4},
                           showlegend=False, row=1, col=i)
        figure.update_xaxes(_axis(pair["x_axis"]), title=pair["x_name"], row=1, col=i)
        figure.update_yaxes(_axis(pair["y_axis"]), title=pair["y_name"], row=1, col=i)
    figure.update_layout(title=title)
    return figure


def plot_param_importances(study: Any, target: Callable[[Any], float] | None = None, target_name: str = "objective",
                           method: str = "fanova", params: Sequence[str] | None = None, seed: int = 0) -> Any:
    """Importance of each parameter for the objective, or for ``target(trial)`` (e.g. its duration; a study of
    several objectives needs one, e.g. ``target=lambda t: t.values[0]``)."""
    d = _data.importances_data(study, target=target, method=method, params=params, seed=seed)
    title = f"Parameter importances for {target_name} ({method})"
    if not d["param"]:
        return _empty(title, "fewer than two finished trials")
    go = _go()
    return go.Figure(go.Bar(x=d["importance"][::-1], y=d["param"][::-1], orientation="h"),
                     layout={"title": title, "xaxis": {"title": "importance"}})


def plot_edf(studies: Any, *, target: Callable[[Any], float] | None = None, target_name: str = "objective") -> Any:
    """Empirical distribution of the objective (or ``target(trial)``): one line per study (give a list to
    compare)."""
    d = _data.edf_data(studies, target=target)
    title = f"Empirical distribution of the {target_name}"
    if not any(line["value"] for line in d["lines"]):
        return _empty(title)
    go = _go()
    figure = go.Figure(layout={"title": title, "xaxis": {"title": target_name},
                               "yaxis": {"title": "share of trials", "range": [0, 1]}})
    for line in d["lines"]:
        figure.add_scatter(x=line["value"], y=line["share"], mode="lines", name=line["study"], line={"shape": "hv"})
    return figure


def plot_timeline(study: Any) -> Any:
    """Trials per worker over time, coloured by state: idle workers and stragglers show."""
    d = _data.timeline_data(study)
    title = "Timeline"
    if not d["bars"]:
        return _empty(title, "no trial started yet")
    go = _go()
    figure = go.Figure(layout={"title": title, "xaxis": {"type": "date", "title": "time"},
                               "yaxis": {"title": "worker"}, "barmode": "overlay"})
    for state in sorted({b["state"] for b in d["bars"]}):
        bars = [b for b in d["bars"] if b["state"] == state]
        lengths = [(b["end"] - b["start"]).total_seconds() * 1000 for b in bars]  # milliseconds on a date axis
        figure.add_bar(base=[b["start"] for b in bars], x=lengths, y=[b["worker"] for b in bars], orientation="h",
                       name=state, marker={"color": _STATE_COLORS.get(state, "#7f7f7f")},
                       text=[f"trial {b['number']}" for b in bars])
    return figure


def plot_brackets(study: Any) -> Any:
    """Hyperband / successive halving: models still in each bracket at each number of steps."""
    d = _data.brackets_data(study)
    title = "Brackets"
    if not d["brackets"]:
        return _empty(title, "no trial of this study belongs to a bracket")
    go = _go()
    figure = go.Figure(layout={"title": title, "xaxis": {"title": "steps (calls, epochs)", "type": "log"},
                               "yaxis": {"title": "models still training", "type": "log"}})
    for bracket in d["brackets"]:
        figure.add_scatter(x=bracket["steps"], y=bracket["reached"], mode="lines+markers",
                           name=f"bracket {bracket['bracket']}", line={"shape": "hv"})
    return figure


def _hover(number: int, names: list[str], point: list[Any], config: dict[str, Any]) -> str:
    """A trial's hover text: its number, plotted values and parameters (escaped: it is read as HTML)."""
    lines = [f"<b>trial {number}</b>"]
    lines += [f"{html.escape(name)}: {'-' if v is None else f'{v:.6g}'}" for name, v in zip(names, point, strict=True)]
    lines += [f"{html.escape(str(k))}={html.escape(repr(v))}" for k, v in config.items()]
    return "<br>".join(lines)


def plot_pareto_front(study: Any, *, targets: Callable[[Any], Sequence[float]] | None = None,
                      target_names: Sequence[str] | None = None, include_dominated: bool = True,
                      include_infeasible: bool = True) -> Any:
    """The trials of a study of 2 or 3 objectives as a 2-D or 3-D scatter: the Pareto front
    (``study.best_trials``) highlighted, dominated trials dimmed, infeasible ones (a constraint > 0) apart;
    hovering a point shows its trial and parameters. ``targets`` (with ``target_names``) plots other values
    of each trial, e.g. 2 of 4 objectives: ``targets=lambda t: t.values[:2]``.

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["minimize", "minimize"], sampler="random", seed=0)
    >>> study.optimize(lambda c: (c["x"], (1 - c["x"]) ** 2 + 0.1), n_trials=10, progress=False)
    >>> figure = plot_pareto_front(study)
    >>> [trace.name for trace in figure.data], figure.layout.xaxis.title.text
    (['Pareto front'], 'objective 0 (minimize)')
    """
    d = _data.pareto_front_data(study, targets=targets, target_names=target_names,
                                include_dominated=include_dominated, include_infeasible=include_infeasible)
    title = "Pareto front"
    if not any(d[key]["number"] for key, _, _ in _PARETO_TRACES):
        return _empty(title, "no complete trial yet")
    go = _go()
    names = d["names"]
    if d["dims"] == 3:
        layout = {"title": title, "scene": {"xaxis": {"title": names[0]}, "yaxis": {"title": names[1]},
                                            "zaxis": {"title": names[2]}}}
    else:
        layout = {"title": title, "xaxis": {"title": names[0]}, "yaxis": {"title": names[1]}}
    figure = go.Figure(layout=layout)
    many = sum(len(d[key]["number"]) for key, _, _ in _PARETO_TRACES) > _WEBGL_FROM
    for key, name, marker in _PARETO_TRACES:
        group = d[key]
        if not group["number"]:
            continue
        axes = [list(column) for column in zip(*group["point"], strict=True)]
        text = [_hover(n, names, p, c) for n, p, c in zip(group["number"], group["point"], group["config"],
                                                          strict=True)]
        common = {"x": axes[0], "y": axes[1], "mode": "markers", "name": name, "text": text,
                  "customdata": group["number"], "hovertemplate": "%{text}<extra></extra>"}
        if d["dims"] == 3:
            figure.add_trace(go.Scatter3d(z=axes[2], marker={**marker, "size": marker["size"] * 0.6}, **common))
        else:
            figure.add_trace((go.Scattergl if many else go.Scatter)(marker=marker, **common))
    return figure


def plot_hypervolume_history(study: Any, reference_point: Sequence[float] | None = None) -> Any:
    """Hypervolume of the feasible trials' Pareto front after each complete trial, bounded by
    ``reference_point`` (one value per objective, in its own units, worse than every trial that should count;
    None takes `hypersweep.viz.data.default_reference_point`, named in the title).

    >>> import hypersweep as hs
    >>> study = hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "minimize"], sampler="random", seed=0)
    >>> study.optimize(lambda c: (c["x"], c["x"] ** 2), n_trials=10, progress=False)
    >>> volumes = plot_hypervolume_history(study, reference_point=[0.0, 1.0]).data[0].y
    >>> list(volumes) == sorted(volumes), volumes[-1] > 0
    (True, True)
    """
    d = _data.hypervolume_history_data(study, reference_point)
    title = "Hypervolume history"
    if reference_point is None:
        title += " (reference point " + ", ".join(f"{v:.4g}" for v in d["reference_point"]) + ")"
    if not d["number"]:
        return _empty(title)
    go = _go()
    figure = go.Figure(layout={"title": title, "xaxis": {"title": "trial"}, "yaxis": {"title": "hypervolume"}})
    figure.add_scatter(x=d["number"], y=d["hypervolume"], mode="lines+markers", name="hypervolume",
                       line={"shape": "hv"})
    return figure
