"""Parameter types: validation errors, sampling bounds, encodings, grids (property tests with hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from hypersweep.space import Categorical, Constant, Distribution, Float, Int, Param, Real, Space


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Int(5, 2), "low must be < high, got low=5, high=2"),
        (lambda: Float(1.0, 1.0), "low must be < high"),
        (lambda: Float(0.0, 1.0, log=True), "log=True needs low > 0"),
        (lambda: Int(0, 10, log=True), "log=True needs low > 0"),
        (lambda: Int(1.5, 10), "low must be an integer"),
        (lambda: Int(1, 10, step=0), "step must be >= 1"),
        (lambda: Categorical([]), "choices is empty"),
        (lambda: Categorical(choices="abc"), "choices must be a list"),
        (lambda: Categorical(1, choices=[1, 2]), "not both"),
        (lambda: Int(1, 5, prefix="a:b"), "prefix must be a non-empty string without ':'"),
        (lambda: Categorical([1, 1]), "duplicates"),
        (lambda: Space({"x": Categorical([object()])}), "not JSON-able"),
        (lambda: Float(0.0, math.inf), "finite"),
    ],
)
def test_bad_arguments_name_the_problem(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@given(low=st.integers(-1000, 1000), width=st.integers(1, 1000), log=st.booleans(), u=st.floats(0, 1))
def test_int_decode_is_in_range_and_round_trips(low, width, log, u):
    if log:
        low = abs(low) + 1
    p = Int(low, low + width, log=log)
    value = p.decode(u)
    assert isinstance(value, int) and p.low <= value <= p.high
    assert p.decode(p.encode(value)) == value
    assert 0.0 <= p.encode(value) <= 1.0


@given(low=st.floats(-1e6, 1e6), width=st.floats(1e-3, 1e6), log=st.booleans(), u=st.floats(0, 1))
def test_float_decode_is_in_range_and_round_trips(low, width, log, u):
    if log:
        low = abs(low) + 1e-3
    p = Float(low, low + width, log=log)
    value = p.decode(u)
    assert p.low <= value <= p.high
    assert math.isclose(p.encode(value), u, rel_tol=1e-6, abs_tol=1e-6)


def test_int_step_grid_and_validate():
    p = Int(0, 10, step=5)
    assert p.grid(10) == [0, 5, 10]
    assert p.validate(5.0) == 5
    with pytest.raises(ValueError, match="outside"):
        p.validate(3)
    assert {p.sample(np.random.default_rng(i)) for i in range(50)} == {0, 5, 10}


def test_log_int_samples_favour_small_values():
    p = Int(1, 1000, log=True)
    rng = np.random.default_rng(0)
    values = np.array([p.sample(rng) for _ in range(2000)])
    assert np.median(values) < 60  # uniform would give ~500


def test_categorical_tuples_survive_json_and_encoding():
    p = Categorical([(1, 2), (3, 4), "none"])
    assert p.validate([1, 2]) == (1, 2)  # a JSON round trip turns tuples into lists
    assert p.decode(p.encode((3, 4))) == (3, 4)
    assert Param.from_dict(p.to_dict()).validate([3, 4]) == [3, 4]
    with pytest.raises(ValueError, match="not one of"):
        p.validate((5, 6))


def test_constant_and_distribution():
    c = Constant("adam")
    assert c.is_constant and c.validate("adam") == "adam"
    with pytest.raises(ValueError, match="constant"):
        c.validate("sgd")
    d = Distribution(stats.loguniform(1e-3, 1.0))
    rng = np.random.default_rng(0)
    values = [d.sample(rng) for _ in range(200)]
    assert all(1e-3 <= v <= 1.0 for v in values)
    assert math.isclose(d.decode(d.encode(0.1)), 0.1, rel_tol=1e-6)
    k = Distribution(stats.randint(0, 5))
    assert {k.sample(rng) for _ in range(200)} == {0, 1, 2, 3, 4}
    assert Param.from_dict(d.to_dict()).decode(0.5) == pytest.approx(d.decode(0.5))


@pytest.mark.parametrize("param", [Int(1, 100, log=True), Float(1e-4, 1.0, log=True), Categorical(["a", None, 3])])
def test_to_dict_round_trip(param):
    assert Param.from_dict(param.to_dict()) == param


def test_log_float_bounds_decode_exactly():
    p = Float(1e-6, 1e-1, log=True)
    assert p.decode(0.0) == 1e-6 and p.decode(1.0) == 1e-1
    assert p.decode(-0.5) == 1e-6 and p.decode(2.0) == 1e-1


def test_categorical_takes_choices_one_by_one_or_as_one_list():
    assert Categorical(16, 32, 64).choices == [16, 32, 64]
    assert Categorical([16, 32, 64]) == Categorical(16, 32, 64) == Categorical(choices=(16, 32, 64))
    assert Categorical((24,), (12, 12)).choices == [(24,), (12, 12)]  # several tuples: each is a choice
    assert Categorical("relu").choices == ["relu"]
    assert Param.from_dict(Categorical("a", "b").to_dict()) == Categorical("a", "b")


def test_prefix_names_only_and_real_is_float():
    p = Real(1e-4, 1e-2, log=True, prefix="opt")
    assert isinstance(p, Float) and p.prefix == "opt"
    assert p == Float(1e-4, 1e-2, log=True) and "prefix" not in p.to_dict()
    assert Int(8, 64, prefix="d1").prefix == "d1" and Categorical(1, 2, prefix="x").prefix == "x"


def test_object_choices_are_refused_in_a_plain_space_but_kept_for_model_definitions():
    a, b = object(), object()
    c = Categorical(a, b)
    assert c.holds_objects and c.choices == [a, b] and c.index(b) == 1
    with pytest.raises(TypeError, match="inside a model definition"):
        c.to_dict()
