"""hypersweep.deferred: naming spaces in nested definitions, shared spaces, nested choices, building."""

from __future__ import annotations

import pytest

from hypersweep import space
from hypersweep.deferred import Deferred, active_names, build, collect_space


class Block:
    def __init__(self, width=1, act="relu"):
        self.width, self.act = width, act


class Net:
    def __init__(self, block=None, blocks=(), lr=0.1):
        self.block, self.blocks, self.lr = block, list(blocks), lr


def test_names_follow_the_keywords_and_nested_calls():
    net = Deferred(Net, kwargs={
        "block": Deferred(Block, kwargs={"width": space.Int(1, 8)}),
        "lr": space.Real(1e-3, 1.0, log=True),
        "blocks": [Deferred(Block, kwargs={"act": space.Categorical("relu", "tanh")}, label="first")],
    })
    assert sorted(collect_space(net)) == ["block:width", "first:act", "lr"]
    made = build(net, {"block:width": 4, "lr": 0.01, "first:act": "tanh"})
    assert isinstance(made, Net) and made.block.width == 4 and made.blocks[0].act == "tanh" and made.lr == 0.01


def test_one_space_object_in_two_places_is_one_parameter_and_same_names_need_a_prefix():
    width = space.Int(1, 8)
    shared = Deferred(Net, kwargs={"block": Deferred(Block, kwargs={"width": width}, label="a"),
                                   "blocks": [Deferred(Block, kwargs={"width": width}, label="b")]})
    assert list(collect_space(shared)) == ["a:width"]
    made = build(shared, {"a:width": 3})
    assert made.block.width == made.blocks[0].width == 3
    clash = Deferred(Net, kwargs={"blocks": [Deferred(Block, kwargs={"width": space.Int(1, 8)}, label="x"),
                                             Deferred(Block, kwargs={"width": space.Int(1, 4)}, label="x")]})
    with pytest.raises(ValueError, match="both named 'x:width'.*prefix="):
        collect_space(clash)
    fixed = Deferred(Net, kwargs={"blocks": [Deferred(Block, kwargs={"width": space.Int(1, 8)}, label="x"),
                                             Deferred(Block, kwargs={"width": space.Int(1, 4, prefix="y")},
                                                      label="x")]})
    assert sorted(collect_space(fixed)) == ["x:width", "y:width"]


def test_a_choice_of_calls_is_conditional_and_only_the_chosen_one_is_built():
    plain = Block(width=99)
    net = Deferred(Net, kwargs={"block": space.Categorical(Deferred(Block, kwargs={"width": space.Int(1, 8)}), plain)})
    s = collect_space(net)
    assert sorted(s) == ["block", "block[0]:width"] and s["block"].choices == [0, 1]
    first = build(net, {"block": 0, "block[0]:width": 5})
    assert first.block.width == 5 and active_names(net, {"block": 0, "block[0]:width": 5}) == {"block",
                                                                                              "block[0]:width"}
    second = build(net, {"block": 1, "block[0]:width": 5})
    assert second.block.width == 99 and second.block is not plain  # a copy: trials never share an object
    assert active_names(net, {"block": 1, "block[0]:width": 5}) == {"block"}


def test_spaces_passed_positionally_are_refused_with_the_fix():
    with pytest.raises(TypeError, match="pass search spaces by keyword"):
        Deferred(Block, args=(space.Int(1, 8),))


def test_a_prefix_names_the_whole_layer_it_is_given_in():
    layer = Deferred(Block, kwargs={"width": space.Int(1, 8, prefix="d1"), "act": space.Categorical("relu", "tanh")},
                     label="dense")
    root = Deferred(Net, kwargs={"blocks": [layer], "lr": space.Real(0.01, 1.0)})
    assert sorted(collect_space(root)) == ["d1:act", "d1:width", "lr"]
    top = Deferred(Net, kwargs={"lr": space.Real(0.01, 1.0, prefix="opt"), "block": None})
    assert list(collect_space(top)) == ["opt:lr"]  # the unlabelled root: only the space given the prefix
