"""Plot data and figures from real studies of every front end: black-box, scikit-learn, deep learning."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hypersweep as hs
from hypersweep import viz
from hypersweep.viz import data

pytest.importorskip("plotly")

#: plots of a study of several objectives (tests/viz/test_multi_objective_plots.py)
MULTI_OBJECTIVE_PLOTS = ("plot_pareto_front", "plot_hypervolume_history")
PLOTS = [name for name in viz.__all__ if name.startswith("plot_") and name not in MULTI_OBJECTIVE_PLOTS]


def _curves(config, trial):
    value = 0.0
    for step in range(1, 10):
        value = (config["x"] - 0.2) ** 2 + config["lr"] + {"a": 0.0, "b": 0.5}[config["act"]] + 1.0 / step
        trial.report(value, step)
        if trial.should_stop():
            break
    return value


@pytest.fixture(scope="module")
def blackbox():
    study = hs.create_study({"x": (-1.0, 1.0), "lr": (1e-4, 1.0, "log-uniform"), "act": ["a", "b"]},
                            sampler="random", scheduler="asha", seed=0)
    study.optimize(_curves, n_trials=30, progress=False)
    return study


@pytest.fixture(scope="module")
def sklearn_study():
    from sklearn.linear_model import SGDClassifier

    from hypersweep.sklearn import HyperbandSearchCV
    from hypersweep.sklearn.datasets import make_classification

    X, y = make_classification(n_samples=600, n_features=5, random_state=0, chunks=100)
    search = HyperbandSearchCV(SGDClassifier(), {"alpha": np.logspace(-5, -1, 20), "penalty": ["l1", "l2"]},
                               max_iter=9, random_state=0)
    search.fit(X.compute(), y.compute(), classes=[0, 1])
    return search.study_


def test_history_is_each_complete_trial_and_the_best_so_far(blackbox):
    d = data.history_data(blackbox)
    complete = [t for t in blackbox.trials if t.state.value == "complete"]
    assert d["number"] == [t.number for t in complete]
    assert d["best"] == list(np.minimum.accumulate([t.value for t in complete]))
    assert d["direction"] == "minimize"


def test_intermediate_values_show_pruned_trials(blackbox):
    d = data.intermediate_data(blackbox)
    states = {c["state"] for c in d["curves"]}
    assert {"complete", "pruned"} <= states
    pruned = next(c for c in d["curves"] if c["state"] == "pruned")
    assert pruned["step"] == sorted(pruned["step"]) and len(pruned["step"]) < 9


def test_axes_follow_the_parameter_scales():
    study = hs.create_study({"x": (-1.0, 1.0), "lr": (1e-4, 1.0, "log-uniform"), "act": ["a", "b"]},
                            sampler="random", seed=0)
    study.optimize(_curves, n_trials=20, progress=False)
    dims = {d["name"]: d for d in data.parallel_coordinate_data(study)["dims"]}
    assert dims["lr"]["axis"] == {"type": "log"} and dims["x"]["axis"] == {"type": "linear"}
    assert dims["act"]["axis"] == {"type": "category", "labels": ["a", "b"]}
    assert set(dims["act"]["values"]) <= {0, 1}
    pair = data.contour_data(study, ["x", "lr"])["pairs"][0]
    assert pair["grid"] is not None and len(pair["grid"]["z"]) == 50
    assert all(1e-4 <= v <= 1.0 for v in pair["y"])  # drawn in the parameter's own units


def test_edf_timeline_and_importances(blackbox):
    other = hs.create_study({"x": (-1.0, 1.0)}, sampler="random", seed=1, name="other")
    other.optimize(lambda c: c["x"] ** 2, n_trials=10, progress=False)
    lines = data.edf_data([blackbox, other])["lines"]
    assert [line["study"] for line in lines] == [blackbox.name, "other"]
    assert lines[1]["share"][-1] == 1.0 and lines[1]["value"] == sorted(lines[1]["value"])
    bars = data.timeline_data(blackbox)["bars"]
    assert len(bars) == 30 and all(b["end"] >= b["start"] for b in bars)
    by_duration = data.importances_data(blackbox, target=lambda t: t.duration)
    assert set(by_duration["param"]) == {"x", "lr", "act"}
    assert math.isclose(sum(by_duration["importance"]), 1.0)


def test_brackets_of_a_hyperband_search(sklearn_study):
    d = data.brackets_data(sklearn_study)
    assert len(d["brackets"]) == 3  # max_iter=9, aggressiveness 3: brackets 0, 1, 2
    widest = max(d["brackets"], key=lambda b: len(b["models"]))
    assert widest["reached"] == sorted(widest["reached"], reverse=True) and widest["reached"][0] == 9


@pytest.mark.parametrize("name", PLOTS)
def test_every_plot_renders_for_every_front_end(name, blackbox, sklearn_study):
    for study in (blackbox, sklearn_study):
        figure = getattr(viz, name)(study) if name != "plot_edf" else viz.plot_edf([study])
        assert figure.to_dict()["data"] or name == "plot_brackets" and study is blackbox
        figure.to_html(include_plotlyjs=False)  # it serializes


@pytest.mark.parametrize("name", PLOTS)
def test_a_study_without_finished_trials_gets_a_message_not_an_exception(name):
    empty = hs.create_study({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    figure = getattr(viz, name)(empty)
    assert not figure.data and figure.layout.annotations[0].text


def test_plots_of_a_deep_learning_study(tmp_path):
    pytest.importorskip("lightning")
    from digits_models import DigitsMLP, loaders

    from hypersweep import space

    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=3, default_root_dir=tmp_path)
    trainer.search(DigitsMLP(hidden=space.Categorical(8, 32), lr=space.Real(1e-3, 3e-2, log=True)), train, val,
                   target_metric="val_loss", n_trials=4, scheduler="asha", seed=0, progress=False)
    study = trainer.search_summary()
    assert len(data.intermediate_data(study)["curves"]) == 4
    for name in PLOTS:
        if name not in ("plot_brackets",):
            assert getattr(viz, name)(study).data, name


def test_plots_of_a_keras_study():
    pytest.importorskip("hypersweep.keras", exc_type=ImportError)
    from sklearn.datasets import load_digits

    from hypersweep import space
    from hypersweep.keras import Sequential, layers

    X, y = load_digits(return_X_y=True)
    model = Sequential([layers.Dense(units=space.Int(8, 32), activation=space.Categorical("relu", "tanh")),
                        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.search(n_trials=3, target_metric="val_accuracy", x=(X / 16).astype("float32"), y=y, validation_split=0.2,
                 epochs=2, seed=0, progress=False)
    study = model.search_summary()
    assert [len(c["step"]) for c in data.intermediate_data(study)["curves"]] == [2, 2, 2]
    for name in PLOTS:
        if name != "plot_brackets":
            assert getattr(viz, name)(study).data, name
