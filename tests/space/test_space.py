"""`Space`: shorthand parsing, validation, grids and the unit-cube encoding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hypersweep.space import Categorical, Constant, Distribution, Float, Int, Space, as_param

SPACE = Space(
    {
        "units": (1, 100),
        "lr": (1e-4, 1.0, "log-uniform"),
        "activation": ["identity", "relu", "sigmoid", "tanh"],
        "dropout": Float(0.0, 0.5),
        "shape": [(1, 2), (2, 2)],
        "optimizer": "adam",
    }
)


def test_shorthand_builds_the_right_types():
    assert SPACE["units"] == Int(1, 100)
    assert SPACE["lr"] == Float(1e-4, 1.0, log=True)
    assert isinstance(SPACE["activation"], Categorical)
    assert SPACE["optimizer"] == Constant("adam")
    assert isinstance(as_param(stats.uniform(0, 1)), Distribution)
    assert as_param((0.0, 1)) == Float(0.0, 1.0)
    assert SPACE.dims == ["units", "lr", "activation", "dropout", "shape"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ((1, "a"), "mixed or non-numeric tuple"),
        (("a", "b"), "use a list for categorical"),
        ((1, 2, 3, 4), "range tuple is"),
        ((1, 10, "cubic"), "third item"),
        ([], "empty list"),
        ((5, 2), "low must be < high"),
        ((0.0, 1.0, "log-uniform"), "log=True needs low > 0"),
        (object(), "cannot build a parameter"),
    ],
)
def test_shorthand_errors(spec, message):
    with pytest.raises((ValueError, TypeError), match=f"^dropout_rate.*{message}"):  # names the parameter
        Space({"dropout_rate": spec})


def test_validate_fills_constants_and_rejects_unknown_or_missing():
    config = {"units": 5, "lr": 0.1, "activation": "relu", "dropout": 0.2, "shape": [1, 2]}
    assert SPACE.validate(config) == {**config, "shape": (1, 2), "optimizer": "adam"}
    with pytest.raises(ValueError, match="unknown parameters"):
        SPACE.validate({**config, "momentum": 0.9})
    with pytest.raises(ValueError, match="missing parameter 'lr'"):
        SPACE.validate({k: v for k, v in config.items() if k != "lr"})
    with pytest.raises(ValueError, match="outside"):
        SPACE.validate({**config, "units": 500})


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_encode_decode_round_trip(seed):
    config = SPACE.sample(np.random.default_rng(seed))
    assert SPACE.validate(config) == config
    u = SPACE.encode(config)
    assert u.shape == (5,) and np.all((u >= 0) & (u <= 1))
    assert SPACE.decode(u) == config


@settings(max_examples=50, deadline=None)
@given(u=st.lists(st.floats(0, 1), min_size=5, max_size=5))
def test_every_point_of_the_cube_decodes_to_a_valid_config(u):
    config = SPACE.decode(np.array(u))
    assert SPACE.validate(config) == config


def test_grid_enumerates_every_combination_once():
    space = Space({"a": ["x", "y"], "b": (1, 3), "c": Float(0.0, 1.0), "k": 7})
    grid = space.grid(n_points=4)
    assert len(grid) == space.grid_size(4) == 2 * 3 * 4
    assert len({tuple(sorted(g.items())) for g in grid}) == len(grid)
    assert all(g["k"] == 7 for g in grid)
    assert {g["c"] for g in grid} == {0.0, 1 / 3, 2 / 3, 1.0}


def test_json_round_trip_and_repr():
    assert Space.from_dict(SPACE.to_dict()) == SPACE
    text = repr(SPACE)
    assert "units" in text and "Float(0.0001, 1.0, log=True)" in text


def test_encode_many_matches_encode():
    rng = np.random.default_rng(0)
    configs = [SPACE.sample(rng) for _ in range(5)]
    assert np.allclose(SPACE.encode_many(configs), np.stack([SPACE.encode(c) for c in configs]))
    assert SPACE.encode_many([]).shape == (0, 5)
