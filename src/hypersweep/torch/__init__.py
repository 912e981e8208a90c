"""Search spaces inside PyTorch and Lightning model definitions.

>>> import hypersweep as hs
>>> from hypersweep import space
>>> import lightning as L
>>> @hs.torch.searchable()
... class Model(L.LightningModule):
...     def __init__(self, hidden=16, lr=1e-3):
...         super().__init__()
>>> sorted(Model(hidden=space.Categorical(16, 32), lr=space.Real(1e-4, 1e-2, log=True)).space())
['hidden', 'lr']

`searchable` marks the class; `Trainer` (a `lightning.Trainer`) adds ``search``, ``search_summary`` and
``model_of``; `search` runs a plain PyTorch training function over the same kind of model, for code without
Lightning. Needs the extra: ``pip install 'hypersweep[torch]'``.
"""

from __future__ import annotations

from hypersweep._model_search import require

require("torch", "torch")
require("lightning", "torch")

from hypersweep.torch._lightning import Trainer  # noqa: E402
from hypersweep.torch._loop import search  # noqa: E402
from hypersweep.torch._searchable import SearchableModel, searchable  # noqa: E402

__all__ = ["SearchableModel", "Trainer", "search", "searchable"]
