"""Peer libraries that cannot live in the project's environment, run in virtualenvs of their own.

The benchmarks of ``hypersweep.sklearn`` print ratios against dask-ml measured in the same run, but dask-ml's
incremental and Hyperband searches only work with the releases of early 2025. :func:`daskml_python` builds
(once, then reuses) a virtualenv with exactly these pins, under ``benchmarks/.peer-envs/`` (git-ignored)::

    dask==2025.1.0  distributed==2025.1.0  dask-ml==2025.1.0  scikit-learn<1.7  numpy<2  pandas<3
    pyarrow==19.0.1

All six pins are installable as written; pip resolves them to scikit-learn 1.6.1, NumPy 1.26.4 and pandas
2.3.3. The seventh line is the one addition: ``import dask_ml`` imports ``dask.dataframe``, which needs pyarrow,
and pyarrow declares no bound on NumPy, so pip picks the newest pyarrow, which refuses to import under
NumPy 1.x ("pyarrow requires NumPy 2.0 or newer"). 19.0.1 is the pyarrow of dask-ml 2025.1.0's release
(February 2025). Every other dependency is what pip picks for these pins (they all declare their NumPy bounds);
the versions installed are written to ``.peer-envs/daskml-2025.1.0/peer-env.json``.

:func:`run_peer` runs a script with that interpreter and returns the JSON object it prints on its last line
of standard output: ``_daskml_hyperband.py`` (the Hyperband tutorial's search) and ``_daskml_grid.py``
(``GridSearchCV`` on a text pipeline).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER_ENVS = HERE / ".peer-envs"
DASKML_ENV = PEER_ENVS / "daskml-2025.1.0"
DASKML_REQUIREMENTS = (
    "dask==2025.1.0",
    "distributed==2025.1.0",
    "dask-ml==2025.1.0",
    "scikit-learn<1.7",
    "numpy<2",
    "pandas<3",
    "pyarrow==19.0.1",
)
#: What must import in the environment before it counts as built.
_SMOKE = "import dask, distributed, dask_ml.model_selection, sklearn, numpy, pandas"
_MARKER = "peer-env.json"
_TAIL = 4000


class PeerError(RuntimeError):
    """A peer environment could not be built, or a peer script failed."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _tail(text: str, n: int = _TAIL) -> str:
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (several benchmark processes may ask for the same env at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clean_env() -> dict[str, str]:
    """The caller's environment minus what would make the peer interpreter see the project's packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _python_of(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _is_built(env_dir: Path, requirements: tuple[str, ...]) -> bool:
    marker = env_dir / _MARKER
    if not (marker.is_file() and _python_of(env_dir).exists()):
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return recorded.get("requirements") == list(requirements)


def _run_logged(cmd: list[str], log: Path, what: str) -> None:
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=_clean_env()).returncode
    if rc != 0:
        raise PeerError(f"{what} failed (exit {rc}); the end of {log}:\n{_tail(log.read_text())}")


def _build(env_dir: Path, requirements: tuple[str, ...], label: str) -> None:
    _say(f"building the {label} environment (once) in {env_dir} ...")
    start = time.perf_counter()
    if env_dir.exists():
        shutil.rmtree(env_dir)  # a half-built one: start again
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    log = env_dir.parent / f"{env_dir.name}.build.log"
    log.write_text("")
    # The interpreter that runs the benchmarks, i.e. ``python3 -m venv`` with the same Python version, so
    # that the wheels pip picks match; a venv made from inside a venv is based on the base interpreter.
    _run_logged([sys.executable, "-m", "venv", str(env_dir)], log, "python3 -m venv")
    python = str(_python_of(env_dir))
    _run_logged(
        [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", *requirements],
        log,
        f"pip install {' '.join(requirements)}",
    )
    _run_logged([python, "-c", _SMOKE], log, "importing the installed packages")
    freeze = subprocess.run(
        [python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, env=_clean_env(), check=True
    ).stdout.split()
    seconds = time.perf_counter() - start
    record = {
        "requirements": list(requirements),
        "python": sys.version.split()[0],
        "installed": freeze,
        "build_seconds": round(seconds, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (env_dir / _MARKER).write_text(json.dumps(record, indent=1) + "\n")
    _say(f"built the {label} environment in {seconds:.0f} s (log: {log})")


def daskml_python() -> Path:
    """The interpreter of the dask-ml 2025.1.0 environment, built on first use (about a minute)."""
    with _locked(PEER_ENVS / f"{DASKML_ENV.name}.lock"):
        if not _is_built(DASKML_ENV, DASKML_REQUIREMENTS):
            _build(DASKML_ENV, DASKML_REQUIREMENTS, "dask-ml 2025.1.0")
    return _python_of(DASKML_ENV)


def daskml_versions() -> dict[str, str]:
    """``{distribution: version}`` installed in the dask-ml environment (building it if needed)."""
    daskml_python()
    installed = json.loads((DASKML_ENV / _MARKER).read_text())["installed"]
    return dict(line.split("==", 1) for line in installed if "==" in line)


def run_peer(script: str | Path, *args: str, timeout: float = 1800) -> dict:
    """Run ``script *args`` with the dask-ml environment's Python; return the JSON object of its last line.

    The script runs in the caller's working directory (relative paths in ``args`` resolve as for the
    caller). Raises :class:`PeerError` with the tail of the script's standard error when it fails, times
    out, or does not end its output with a JSON object.
    """
    python = daskml_python()
    script = Path(script)
    if not script.is_file():
        raise PeerError(f"no peer script at {script.resolve()}")
    cmd = [str(python), str(script), *map(str, args)]
    shown = " ".join([script.name, *map(str, args)])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_clean_env())
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise PeerError(f"{shown} ran past {timeout:g} s; its stderr ended with:\n{_tail(err)}") from None
    if done.returncode != 0:
        raise PeerError(f"{shown} exited with {done.returncode}; its stderr ended with:\n{_tail(done.stderr)}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1]) if lines else None
    except ValueError:
        result = None
    if not isinstance(result, dict):
        raise PeerError(
            f"{shown} did not end its output with a JSON object; stdout ended with:\n{_tail(done.stdout, 1000)}"
            f"\nstderr ended with:\n{_tail(done.stderr)}"
        )
    return result
