"""Collection: the modules of optional extras (the front ends, the tests' helper modules, which --doctest-modules
would import) are skipped where the extra is absent; their tests skip themselves."""

from __future__ import annotations

import importlib.util

collect_ignore = []
if importlib.util.find_spec("torch") is None or importlib.util.find_spec("lightning") is None:
    collect_ignore += ["src/hypersweep/torch", "tests/digits_models.py", "tests/lightning_script.py"]
if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
    collect_ignore.append("src/hypersweep/keras")
