"""Search spaces inside Keras 3 model definitions: Sequential, functional and subclassed models.

>>> from hypersweep import space
>>> from hypersweep.keras import Sequential, layers, optimizers
>>> m = Sequential([layers.Dense(units=space.Int(8, 64, prefix="d1"), activation=space.Categorical("relu", "tanh")),
...                 layers.Dense(10, activation="softmax")])
>>> m.compile(optimizer=optimizers.RMSprop(learning_rate=space.Real(1e-4, 1e-2, log=True)),
...           loss="sparse_categorical_crossentropy", metrics=["accuracy"])

then ``m.search(n_trials=20, target_metric="val_accuracy", x=x, y=y, validation_split=0.2, epochs=10,
batch_size=space.Categorical(32, 64))``, ``m.search_summary()`` and ``m.fit(x, y)``.

Keras runs on the torch backend unless ``KERAS_BACKEND`` says otherwise (set before Keras is first imported):
no TensorFlow needed. Needs the extra: ``pip install 'hypersweep[keras]'``.
"""

from __future__ import annotations

import os
import sys

from hypersweep._model_search import require

if "keras" not in sys.modules:
    os.environ.setdefault("KERAS_BACKEND", "torch")
require("keras", "keras")

from hypersweep.keras._model import Model, SearchableKerasModel, Sequential, searchable  # noqa: E402
from hypersweep.keras._parts import DeferredLayer, Input, layers, optimizers  # noqa: E402

__all__ = ["DeferredLayer", "Input", "Model", "SearchableKerasModel", "Sequential", "layers", "optimizers",
           "searchable"]
