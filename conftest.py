"""Collection: the modules of optional extras (the front ends, the tests' helper modules, which --doctest-modules
would import) are skipped where the extra is absent; their tests skip themselves.

Ctrl-C: a suite started in the background (``nohup .ci/run &``) inherits SIGINT ignored, and so would every
search process the tests start; Python's own handler is put back so the Ctrl-C tests test Ctrl-C."""

from __future__ import annotations

import importlib.util
import signal

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

collect_ignore = []
if importlib.util.find_spec("torch") is None or importlib.util.find_spec("lightning") is None:
    collect_ignore += ["src/hypersweep/torch", "tests/digits_models.py", "tests/lightning_script.py"]
if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
    collect_ignore.append("src/hypersweep/keras")
