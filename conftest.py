"""Doctest collection of the package: the front ends of optional extras are skipped where the extra is absent."""

from __future__ import annotations

import importlib.util

collect_ignore = []
if importlib.util.find_spec("torch") is None or importlib.util.find_spec("lightning") is None:
    collect_ignore.append("src/hypersweep/torch")
if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
    collect_ignore.append("src/hypersweep/keras")
