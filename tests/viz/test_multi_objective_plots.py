"""Plots of studies of several objectives (Pareto front, hypervolume history) and ``target=`` on the plots of one
value per trial, from real studies."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hypersweep as hs
from hypersweep import viz
from hypersweep.multi_objective import as_losses, hypervolume
from hypersweep.viz import data

pytest.importorskip("plotly")

DIRECTIONS = ["minimize", "maximize"]


def _constrained(c):
    """(minimize x, maximize y (1 - x)), feasible while y <= 0.8."""
    return {"objective": (c["x"], c["y"] * (1 - c["x"])), "constraints": [c["y"] - 0.8]}


@pytest.fixture(scope="module")
def study():
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=DIRECTIONS, sampler="random", seed=0)
    study.optimize(_constrained, n_trials=40, progress=False)
    return study


def _dominates(a, b):
    """Whether objective values ``a`` beat ``b`` (minimize the first, maximize the second), written out here."""
    no_worse = a[0] <= b[0] and a[1] >= b[1]
    return no_worse and (a[0] < b[0] or a[1] > b[1])


def test_the_front_is_the_studys_best_trials_and_the_rest_lands_in_its_trace(study):
    d = data.pareto_front_data(study)
    feasible = [t for t in study.trials if t.feasible]
    infeasible = [t.number for t in study.trials if not t.feasible]
    assert infeasible and len(d["dominated"]["number"]) >= 5  # the fixture has every kind of trial
    assert d["front"]["number"] == [t.number for t in study.best_trials]
    assert d["infeasible"]["number"] == infeasible
    assert d["dominated"]["number"] == [t.number for t in feasible if t.number not in d["front"]["number"]]
    values = {t.number: t.values for t in study.trials}
    for n in d["front"]["number"]:  # nothing feasible beats a front trial; something beats every dominated one
        assert not any(_dominates(t.values, values[n]) for t in feasible)
    for n in d["dominated"]["number"]:
        assert any(_dominates(values[f], values[n]) for f in d["front"]["number"])
    assert d["names"] == ["objective 0 (minimize)", "objective 1 (maximize)"] and d["dims"] == 2
    assert d["front"]["point"] == [list(values[n]) for n in d["front"]["number"]]
    assert d["front"]["config"][0] == study.trial(d["front"]["number"][0]).config


def test_the_figure_draws_each_group_with_its_trials_and_hover(study):
    d = data.pareto_front_data(study)
    figure = viz.plot_pareto_front(study)
    traces = {trace.name: trace for trace in figure.data}
    assert list(traces) == ["infeasible", "dominated", "Pareto front"]
    for key, name in (("front", "Pareto front"), ("dominated", "dominated"), ("infeasible", "infeasible")):
        trace = traces[name]
        assert list(trace.customdata) == d[key]["number"]
        assert list(trace.x) == [p[0] for p in d[key]["point"]] and list(trace.y) == [p[1] for p in d[key]["point"]]
    first = traces["Pareto front"]
    assert f"trial {first.customdata[0]}" in first.text[0] and "x=" in first.text[0] and "y=" in first.text[0]
    assert figure.layout.xaxis.title.text == "objective 0 (minimize)"
    assert figure.layout.yaxis.title.text == "objective 1 (maximize)"
    only_front = viz.plot_pareto_front(study, include_dominated=False, include_infeasible=False)
    assert [trace.name for trace in only_front.data] == ["Pareto front"]
    renamed = viz.plot_pareto_front(study, target_names=["latency", "accuracy"])
    assert renamed.layout.xaxis.title.text == "latency"
    figure.to_html(include_plotlyjs=False)


def test_three_objectives_make_a_3d_scatter():
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize"] * 3, sampler="random",
                            seed=1)
    study.optimize(lambda c: (c["x"], c["y"], (1 - c["x"]) * (1 - c["y"])), n_trials=15, progress=False)
    figure = viz.plot_pareto_front(study)
    assert {trace.type for trace in figure.data} == {"scatter3d"}
    front = next(trace for trace in figure.data if trace.name == "Pareto front")
    assert list(front.customdata) == [t.number for t in study.best_trials]
    assert [list(p) for p in zip(front.x, front.y, front.z, strict=True)] == [
        list(t.values) for t in study.best_trials]
    assert figure.layout.scene.zaxis.title.text == "objective 2 (minimize)"


def test_targets_choose_the_axes_and_the_front_stays_the_studys():
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize"] * 4, sampler="random",
                            seed=2)
    study.optimize(lambda c: (c["x"], 1 - c["x"], c["y"], 1 - c["y"]), n_trials=12, progress=False)
    with pytest.raises(ValueError, match=r"4 objectives.*targets=lambda t: t\.values\[:2\]"):
        viz.plot_pareto_front(study)
    with pytest.raises(ValueError, match="target_names"):
        viz.plot_pareto_front(study, targets=lambda t: t.values[:2])
    with pytest.raises(ValueError, match="target_names"):
        viz.plot_pareto_front(study, targets=lambda t: t.values, target_names=["a", "b", "c", "d"])
    d = data.pareto_front_data(study, targets=lambda t: (t.values[0], t.values[2]), target_names=["x", "y"])
    assert d["front"]["number"] == [t.number for t in study.best_trials]  # by the 4 objectives
    assert d["front"]["point"] == [[t.values[0], t.values[2]] for t in study.best_trials]
    assert d["names"] == ["x", "y"]


def test_a_study_of_one_objective_needs_targets():
    study = hs.create_study({"x": (-1.0, 1.0)}, sampler="random", seed=0)
    study.optimize(lambda c: c["x"] ** 2, n_trials=8, progress=False)
    with pytest.raises(ValueError, match=r"one objective.*targets=lambda t: \(t\.value, t\.duration\)"):
        viz.plot_pareto_front(study)
    figure = viz.plot_pareto_front(study, targets=lambda t: (t.value, t.config["x"]), target_names=["loss", "x"])
    front = next(trace for trace in figure.data if trace.name == "Pareto front")
    assert list(front.customdata) == [t.number for t in study.best_trials]
    assert figure.layout.xaxis.title.text == "loss" and figure.layout.yaxis.title.text == "x"


def test_hypervolume_history_is_the_front_volume_after_each_trial(study):
    reference = [1.0, 0.0]  # the worst x and the worst y (1 - x), in the objectives' own units
    d = data.hypervolume_history_data(study, reference)
    complete = [t for t in study.trials if t.state.value == "complete"]
    assert d["number"] == [t.number for t in complete]
    assert np.all(np.diff(d["hypervolume"]) >= 0) and d["hypervolume"][-1] > 0
    ref = as_losses([reference], DIRECTIONS)[0]
    front = [t.values for t in study.best_trials]
    assert math.isclose(d["hypervolume"][-1], hypervolume(as_losses(front, DIRECTIONS), ref))
    for k, t in enumerate(complete):  # every step, recomputed from scratch: the incremental front is right
        so_far = [u.values for u in complete[: k + 1] if u.feasible]
        assert math.isclose(d["hypervolume"][k], hypervolume(as_losses(so_far, DIRECTIONS), ref) if so_far else 0.0)
        if not t.feasible and k:
            assert d["hypervolume"][k] == d["hypervolume"][k - 1]
    figure = viz.plot_hypervolume_history(study, reference)
    assert list(figure.data[0].x) == d["number"] and list(figure.data[0].y) == d["hypervolume"]


def test_default_reference_point_is_beyond_every_trial_in_each_direction(study):
    reference = data.default_reference_point(study)
    values = np.array([t.values for t in study.trials if t.state.value == "complete"])
    assert reference[0] > values[:, 0].max() and reference[1] < values[:, 1].min()  # minimize, maximize
    assert data.hypervolume_history_data(study)["reference_point"] == reference
    figure = viz.plot_hypervolume_history(study)
    assert list(figure.data[0].y) == data.hypervolume_history_data(study, reference)["hypervolume"]
    assert f"{reference[0]:.4g}" in figure.layout.title.text
    assert data.hypervolume_history_data(study)["hypervolume"][-1] > 0


def test_hypervolume_is_taken_in_the_studys_directions():
    study = hs.create_study({"x": (0.0, 1.0)}, directions=["maximize", "minimize"], sampler="random", seed=3)
    study.optimize(lambda c: (c["x"], c["x"] ** 2), n_trials=10, progress=False)
    # maximize x and minimize x^2 from (0, 1): the staircase area over the sorted x, written out
    xs = sorted(t.values[0] for t in study.trials)
    expected = sum((b - a) * (1 - b**2) for a, b in zip([0.0] + xs[:-1], xs, strict=True))
    assert math.isclose(data.hypervolume_history_data(study, [0.0, 1.0])["hypervolume"][-1], expected)


def test_hypervolume_errors_name_the_fix(study):
    with pytest.raises(ValueError, match=r"reference_point must be 2 finite numbers.*\(minimize, maximize\)"):
        viz.plot_hypervolume_history(study, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="reference_point"):
        viz.plot_hypervolume_history(study, [1.0, float("nan")])
    single = hs.create_study({"x": (0.0, 1.0)}, sampler="random", seed=0)
    single.optimize(lambda c: c["x"], n_trials=3, progress=False)
    with pytest.raises(ValueError, match="one objective.*plot_optimization_history"):
        viz.plot_hypervolume_history(single, [1.0])


def test_a_study_of_several_objectives_without_trials_gets_a_message():
    empty = hs.create_study({"x": (0.0, 1.0)}, directions=DIRECTIONS)
    for figure in (viz.plot_pareto_front(empty), viz.plot_hypervolume_history(empty, [1.0, 0.0])):
        assert not figure.data and figure.layout.annotations[0].text


ONE_VALUE_PLOTS = ["plot_optimization_history", "plot_slice", "plot_contour", "plot_parallel_coordinate",
                   "plot_edf", "plot_param_importances"]


@pytest.mark.parametrize("name", ONE_VALUE_PLOTS)
def test_plots_of_one_value_need_a_target_for_several_objectives(name, study):
    with pytest.raises(ValueError, match=r"2 objectives.*target=lambda t: t\.values\[0\]"):
        getattr(viz, name)(study)
    figure = getattr(viz, name)(study, target=lambda t: t.values[1], target_name="accuracy")
    assert figure.data


@pytest.fixture(scope="module")
def single():
    study = hs.create_study({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}, sampler="random", seed=0)
    study.optimize(lambda c: c["x"] ** 2 + c["y"], n_trials=20, progress=False)
    return study


def test_target_changes_the_plotted_values(single, study):
    trials = [t for t in single.trials if t.state.value == "complete"]
    scaled = [-10 * t.value for t in trials]

    def target(t):
        return -10 * t.value

    history = data.history_data(single, target=target)
    assert history["value"] == scaled and history["best"] is None and history["direction"] is None
    best = data.history_data(single, target=target, direction="maximize")["best"]
    assert best == list(np.maximum.accumulate(scaled))
    assert data.slice_data(single, target=target)["panels"][0]["value"] == scaled
    assert data.parallel_coordinate_data(single, target=target)["objective"] == scaled
    assert data.contour_data(single, target=target)["pairs"][0]["value"] == scaled
    assert data.edf_data(single, target=target)["lines"][0]["value"] == sorted(scaled)
    by_y = data.importances_data(single, target=lambda t: t.config["y"], method="ped_anova")
    assert by_y["param"][0] == "y"
    # several objectives: the target picks one
    second = [t.values[1] for t in study.trials if t.state.value == "complete"]
    assert data.history_data(study, target=lambda t: t.values[1])["value"] == second


def test_target_name_titles_the_figures_and_one_objective_is_unchanged(single):
    def target(t):
        return t.value + 1

    history = viz.plot_optimization_history(single, target=target, target_name="shifted")
    assert [trace.name for trace in history.data] == ["shifted"] and history.layout.yaxis.title.text == "shifted"
    assert list(history.data[0].y) == [t.value + 1 for t in single.trials]
    with_best = viz.plot_optimization_history(single, target=target, target_name="shifted", direction="minimize")
    assert [trace.name for trace in with_best.data] == ["shifted", "best so far"]
    plain = viz.plot_optimization_history(single)
    assert [trace.name for trace in plain.data] == ["objective", "best so far"]
    assert data.history_data(single)["best"] == list(np.minimum.accumulate([t.value for t in single.trials]))
    assert viz.plot_slice(single, target=target, target_name="shifted").layout.yaxis.title.text == "shifted"
    assert viz.plot_edf(single, target=target, target_name="shifted").layout.xaxis.title.text == "shifted"
    parallel = viz.plot_parallel_coordinate(single, target=target, target_name="shifted")
    assert parallel.data[0].dimensions[0].label == "shifted"
    assert list(parallel.data[0].dimensions[0].values) == [t.value + 1 for t in single.trials]
    contour = viz.plot_contour(single, target=target, target_name="shifted")
    assert contour.data[0].type == "contour" and contour.data[0].colorbar.title.text == "shifted"


def test_importances_of_several_objectives_need_a_target():
    study = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)}, directions=["minimize", "minimize"],
                            sampler="random", seed=0)
    study.optimize(lambda c: (c["x"], c["y"] ** 2), n_trials=30, progress=False)
    with pytest.raises(ValueError, match=r"target=lambda t: t.values\[0\]"):
        hs.importances(study)
    assert next(iter(hs.importances(study, target=lambda t: t.values[1]))) == "y"


def test_intermediate_values_of_each_objective():
    def curves(config, trial):
        for step in (1, 2, 3):
            trial.report((config["x"] * step, 10 + step), step)
        return config["x"] * 3, 13.0

    study = hs.create_study({"x": (0.0, 1.0)}, directions=DIRECTIONS, sampler="random", seed=0)
    study.optimize(curves, n_trials=4, progress=False)
    first, second = data.intermediate_data(study), data.intermediate_data(study, objective=1)
    xs = [t.config["x"] for t in study.trials]
    assert [c["value"] for c in first["curves"]] == [[x, 2 * x, 3 * x] for x in xs]
    assert [c["value"] for c in second["curves"]] == [[11.0, 12.0, 13.0]] * 4
    figure = viz.plot_intermediate_values(study, objective=1)
    assert figure.layout.yaxis.title.text == "objective 1" and list(figure.data[0].y) == [11.0, 12.0, 13.0]
    named = viz.plot_intermediate_values(study, target_name="latency", objective=1)
    assert named.layout.yaxis.title.text == "latency"
    for bad in (2, -1, "1", True):
        with pytest.raises(ValueError, match="objective"):
            data.intermediate_data(study, objective=bad)
