"""The core imports and searches without the deep-learning extras; a missing extra names its install command."""

from __future__ import annotations

import subprocess
import sys

_BLOCK = "import sys\nfor name in {names!r}: sys.modules[name] = None  # as if not installed\n"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_core_works_without_torch_lightning_and_keras():
    code = _BLOCK.format(names=["torch", "lightning", "keras"]) + (
        "import hypersweep as hs\n"
        "from hypersweep import space\n"
        "study = hs.create_study({'x': space.Real(-1.0, 1.0)}, sampler='random', seed=0)\n"
        "study.optimize(lambda c: c['x'] ** 2, n_trials=5, progress=False)\n"
        "print(len(study.trials))\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5"


def test_a_missing_extra_says_how_to_install_it():
    cases = (("hypersweep.torch", ["lightning"], "torch"), ("hypersweep.keras", ["keras"], "keras"))
    for module, names, extra in cases:
        done = _python(_BLOCK.format(names=names) + f"import {module}\n")
        assert done.returncode != 0
        assert f"pip install 'hypersweep[{extra}]'" in done.stderr, done.stderr
