"""The scheduler registry, the `Decision` enum, argument validation messages and docstring examples.

Every error names the parameter, the value received and the fix.
"""

import doctest
import importlib

import pytest

from hypersweep.schedulers import (
    ASHA,
    BaseScheduler,
    Decision,
    Hyperband,
    MedianStopping,
    NoScheduler,
    SuccessiveHalving,
    get_scheduler,
    rung_levels,
)


@pytest.mark.parametrize(
    "name, cls",
    [
        (None, NoScheduler),
        ("none", NoScheduler),
        ("sh", SuccessiveHalving),
        ("successive_halving", SuccessiveHalving),
        (" Hyperband ", Hyperband),
        ("asha", ASHA),
        ("median", MedianStopping),
    ],
)
def test_get_scheduler_by_name(name, cls):
    assert type(get_scheduler(name)) is cls


def test_get_scheduler_kwargs_and_instances():
    sh = get_scheduler("sh", max_resource=27, reduction_factor=2)
    assert (sh.max_resource, sh.reduction_factor) == (27, 2)
    hb = Hyperband(max_resource=9)
    assert get_scheduler(hb) is hb
    assert repr(hb) == "Hyperband(max_resource=9, reduction_factor=3, min_resource=1, synchronous=False)"
    with pytest.raises(TypeError, match="only for a scheduler given by name"):
        get_scheduler(hb, max_resource=3)
    with pytest.raises(TypeError, match="scheduler must be a name, a BaseScheduler or None, got 3"):
        get_scheduler(3)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_scheduler("halving")
    message = str(info.value)
    assert "'halving'" in message
    for name in ["none", "sh", "successive_halving", "hyperband", "asha", "median"]:
        assert name in message


def test_decision_and_base_class():
    assert Decision("pause") is Decision.PAUSE and str(Decision.STOP) == "stop" and Decision.STOP == "stop"
    with pytest.raises(TypeError):
        BaseScheduler()  # abstract
    assert NoScheduler().on_trial_start(0, []) == {} and NoScheduler().promotable([], "minimize") == []


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda: SuccessiveHalving(reduction_factor=1),
            ValueError,
            "reduction_factor must be an int >= 2, got reduction_factor=1; each rung keeps",
        ),
        (lambda: ASHA(reduction_factor=0), ValueError, "reduction_factor must be an int >= 2, got reduction_factor=0"),
        (lambda: Hyperband(reduction_factor=1), ValueError, "reduction_factor must be an int >= 2, got"),
        (lambda: SuccessiveHalving(min_resource=0), ValueError, "min_resource must be an int >= 1, got min_resource=0"),
        (
            lambda: SuccessiveHalving(min_resource=1.5),
            TypeError,
            r"min_resource must be an int >= 1, got min_resource=1.5",
        ),
        (lambda: ASHA(max_resource=True), TypeError, "max_resource must be an int >= 1, got max_resource=True"),
        (
            lambda: SuccessiveHalving(min_resource=3, max_resource=1),
            ValueError,
            "max_resource must be >= min_resource, got max_resource=1, min_resource=3; raise max_resource",
        ),
        (
            lambda: SuccessiveHalving(max_resource=10, min_early_stopping_rate=3),
            ValueError,
            r"reduction_factor\*\*min_early_stopping_rate = 27 exceeds max_resource=10; lower",
        ),
        (
            lambda: SuccessiveHalving(min_early_stopping_rate=-1),
            ValueError,
            "min_early_stopping_rate must be an int >= 0, got min_early_stopping_rate=-1",
        ),
        (lambda: Hyperband(max_resource=0), ValueError, "max_resource must be an int >= 1, got max_resource=0"),
        (
            lambda: Hyperband(max_resource=5, min_resource=10),
            ValueError,
            "max_resource must be >= min_resource, got max_resource=5, min_resource=10",
        ),
        (lambda: Hyperband(max_resource="81"), TypeError, "max_resource must be an int >= 1, got max_resource='81'"),
        (lambda: MedianStopping(warmup_steps=-1), ValueError, "warmup_steps must be an int >= 0, got warmup_steps=-1"),
        (lambda: MedianStopping(min_trials=0), ValueError, "min_trials must be an int >= 1, got min_trials=0"),
        (lambda: SuccessiveHalving().bracket(9), ValueError, "bracket\\(\\) needs a finite max_resource"),
        (lambda: SuccessiveHalving(max_resource=9).bracket(0), ValueError, "n_models must be an int >= 1"),
        (lambda: Hyperband().bracket_of(-1), ValueError, "number must be an int >= 0, got number=-1"),
        (lambda: rung_levels(1, 3), ValueError, "needs max_resource or up_to"),
    ],
)
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_numpy_integers_are_accepted():
    np = pytest.importorskip("numpy")
    assert Hyperband(max_resource=np.int64(27)).plan().n_models == 49


@pytest.mark.parametrize(
    "module",
    [
        "hypersweep.schedulers",
        "hypersweep.schedulers.base",
        "hypersweep.schedulers.successive_halving",
        "hypersweep.schedulers.asha",
        "hypersweep.schedulers.hyperband",
        "hypersweep.schedulers.median",
        "hypersweep.testing.simulator",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
