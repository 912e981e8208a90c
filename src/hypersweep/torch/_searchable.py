"""The `searchable` decorator: a model class called with search spaces among its arguments is deferred."""

from __future__ import annotations

from typing import Any, TypeVar

from hypersweep.deferred import Deferred, make_searchable

__all__ = ["SearchableModel", "searchable"]

T = TypeVar("T", bound=type)


class SearchableModel(Deferred):
    """A model class called with search spaces: what `Trainer.search` searches.

    ``space()`` lists its parameters, ``build(config)`` makes the real model of one configuration.
    """


def searchable(cls: T | None = None) -> Any:
    """Let a `torch.nn.Module` or `lightning.LightningModule` class take search spaces as arguments.

    Called with a space (``space.Int``, ``space.Real``, ``space.Categorical``) in a keyword argument, even
    nested in a list, a dict or another searchable call, the class returns a `SearchableModel` instead of an
    instance; called with plain values it makes the model as usual.

    >>> import torch
    >>> import hypersweep as hs
    >>> from hypersweep import space
    >>> @hs.torch.searchable()
    ... class Net(torch.nn.Module):
    ...     def __init__(self, hidden=8):
    ...         super().__init__()
    ...         self.layer = torch.nn.Linear(4, hidden)
    >>> deferred = Net(hidden=space.Categorical(16, 32))
    >>> list(deferred.space()), deferred.build({"hidden": 32}).layer.out_features
    (['hidden'], 32)
    >>> Net(hidden=4).layer.out_features  # no space: an ordinary instance
    4
    """
    if cls is None:
        return searchable
    return make_searchable(cls, _as_model)


def _as_model(call: Deferred) -> SearchableModel:
    return SearchableModel(call.factory, call.args, call.kwargs, name=call.name)
