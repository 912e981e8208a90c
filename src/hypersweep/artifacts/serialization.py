"""Objects to bytes in an artifact store and back: `save_object` picks a format, `load_object` reads it.

Formats: "torch", "joblib" (the default), "cloudpickle" (lambdas, __main__ classes), "pickle", "file", "directory".
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import shutil
import sys
import tarfile
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from hypersweep._validation import check_choice, invalid
from hypersweep.artifacts._stream import CHUNK_SIZE, HashingReader
from hypersweep.artifacts.base import TEMP_PREFIX, ArtifactCorrupted, ArtifactStore, check_key

__all__ = ["FORMATS", "default_cache_dir", "detect_format", "load_object", "save_object"]

#: every format `save_object` writes and `load_object` reads
FORMATS = ("joblib", "cloudpickle", "pickle", "torch", "file", "directory")

#: serialized objects up to this size stay in memory on their way to a store; larger ones spill to disk
_SPOOL_BYTES = 64 << 20

_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}")


def detect_format(obj: Any) -> str:
    """The format `save_object` uses for ``obj``.

    "file" / "directory" for a path (str or os.PathLike) naming an existing file / folder; "torch" for torch
    objects (modules, tensors, optimizers, or dicts / lists / tuples holding them); "cloudpickle" for what
    plain pickle cannot restore in another process (lambdas, local functions, classes defined in __main__);
    "joblib" for everything else (efficient for numpy arrays and scikit-learn estimators).

    >>> import numpy as np
    >>> detect_format(np.zeros(3)), detect_format(lambda x: x), detect_format({"epoch": 3})
    ('joblib', 'cloudpickle', 'joblib')
    """
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if os.path.isfile(path):
            return "file"
        if os.path.isdir(path):
            return "directory"
        raise FileNotFoundError(
            f"obj={obj!r} names no existing file or folder (looked for {os.path.abspath(path)!r}); pass the "
            "path of a file or folder to save it, or format='joblib' to save the string itself"
        )
    if _holds_torch(obj):
        return "torch"
    return "cloudpickle" if _needs_cloudpickle(obj) else "joblib"


def save_object(store: ArtifactStore, key: str, obj: Any, format: str | None = None) -> tuple[int, str, str]:
    """Write ``obj`` under ``key`` in ``store``; its (size, checksum, format) for the `Artifact` record.

    ``format`` is one of `FORMATS`; None picks one with `detect_format`. Large objects stream to the store
    through a temporary file rather than being held twice in memory.

    >>> from hypersweep.artifacts import FsspecArtifactStore
    >>> store = FsspecArtifactStore("memory://doctest-save")
    >>> size, checksum, fmt = save_object(store, "0/config", {"lr": 0.1})
    >>> fmt, load_object(store, "0/config", fmt, checksum)
    ('joblib', {'lr': 0.1})
    """
    check_key(key)
    format = detect_format(obj) if format is None else check_choice("format", format, FORMATS, _FORMAT_FIX)
    if format in ("file", "directory"):
        path = _existing_path(obj, format)
        if format == "file":
            with open(path, "rb") as source:
                size, checksum = store.write(key, source)
            return size, checksum, format
        writer: Callable[[IO[bytes]], None] = functools.partial(_tar_folder, path)
    else:
        writer = _WRITERS[format](obj)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        try:
            writer(spool)  # type: ignore[arg-type]
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # not OSError: a full disk is no type
            if format in ("file", "directory"):
                raise
            raise TypeError(
                f"cannot save {type(obj).__name__} {obj!r:.60} under key {key!r} with format={format!r}: "
                f"{exc}. Save what it holds instead (e.g. a model's state_dict(), arrays, plain data), or pass "
                "another format="
            ) from exc
        spool.seek(0)
        size, checksum = store.write(key, spool)  # type: ignore[arg-type]
    return size, checksum, format


def load_object(
    store: ArtifactStore, key: str, format: str, checksum: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The object saved under ``key`` by `save_object` with ``format``; for "file" and "directory", the
    local `Path` of a restored copy.

    With ``checksum`` ("sha256:<hex>", as `save_object` returned) the bytes are verified before anything is
    unpickled, and `ArtifactCorrupted` is raised when they differ. Restored files and folders live in
    ``cache_dir`` (default `default_cache_dir`) under their checksum, named after the key's last segment:
    loading one twice copies it once. Treat them as read-only (copy one before changing it). Unpickling runs
    code: load only from stores you trust.

    >>> from hypersweep.artifacts import FsspecArtifactStore
    >>> store = FsspecArtifactStore("memory://doctest-load")
    >>> _, checksum, fmt = save_object(store, "0/square", lambda x: x * x)
    >>> fmt, load_object(store, "0/square", fmt, checksum)(3)
    ('cloudpickle', 9)
    """
    check_key(key)
    check_choice("format", format, FORMATS, "pass the format save_object returned (Artifact.format)")
    if checksum is not None and not (isinstance(checksum, str) and _CHECKSUM.fullmatch(checksum)):
        raise invalid("checksum", checksum, "None or 'sha256:' and 64 lowercase hex digits",
                      "pass the checksum save_object returned (Artifact.checksum)")
    if format in ("file", "directory"):
        return _restore(store, key, format, checksum, cache_dir)
    reader = _READERS[format]
    with store.open(key) as source:
        if checksum is None and _seekable(source):
            return reader(source)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            hashing = HashingReader(source)
            shutil.copyfileobj(hashing, spool, CHUNK_SIZE)
            if checksum is not None and hashing.checksum != checksum:
                raise ArtifactCorrupted(key, store.url, expected=checksum, found=hashing.checksum)
            spool.seek(0)
            return reader(spool)  # type: ignore[arg-type]


def default_cache_dir() -> Path:
    """Where `load_object` restores files and folders: a folder of this user's in `tempfile.gettempdir()`.

    >>> default_cache_dir().name.startswith("hypersweep-artifacts")
    True
    """
    uid = getattr(os, "getuid", None)
    return Path(tempfile.gettempdir()) / ("hypersweep-artifacts" + (f"-{uid()}" if uid else ""))


# --- formats --------------------------------------------------------------------------------------------

_FORMAT_FIX = "or leave format=None to pick one from the object"


def _write_joblib(obj: Any) -> Callable[[IO[bytes]], None]:
    import joblib

    return lambda out: joblib.dump(obj, out)


def _write_cloudpickle(obj: Any) -> Callable[[IO[bytes]], None]:
    import cloudpickle

    return lambda out: cloudpickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)


def _write_pickle(obj: Any) -> Callable[[IO[bytes]], None]:
    return lambda out: pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)


def _write_torch(obj: Any) -> Callable[[IO[bytes]], None]:
    import cloudpickle
    import torch

    # cloudpickle as torch's pickler: a whole module whose class lives in a script (__main__) loads anywhere
    return lambda out: torch.save(obj, out, pickle_module=cloudpickle)


def _read_joblib(source: IO[bytes]) -> Any:
    import joblib

    return joblib.load(source)


def _read_pickle(source: IO[bytes]) -> Any:  # cloudpickle's output too: pickle.load reads it
    return pickle.load(source)


def _read_torch(source: IO[bytes]) -> Any:
    import torch

    map_location = None if torch.cuda.is_available() else "cpu"  # GPU checkpoints load on CPU-only machines
    return torch.load(source, map_location=map_location, weights_only=False)


_WRITERS: dict[str, Callable[[Any], Callable[[IO[bytes]], None]]] = {
    "joblib": _write_joblib, "cloudpickle": _write_cloudpickle, "pickle": _write_pickle, "torch": _write_torch,
}
_READERS: dict[str, Callable[[IO[bytes]], Any]] = {
    "joblib": _read_joblib, "cloudpickle": _read_pickle, "pickle": _read_pickle, "torch": _read_torch,
}


def _holds_torch(obj: Any, depth: int = 8) -> bool:
    """Whether ``obj`` is, or a dict / list / tuple holds, a torch module, tensor, optimizer or LR scheduler.

    Never imports torch: when it is not imported yet, nothing can be a torch object.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    kinds = tuple(
        kind for kind in (
            getattr(torch, "Tensor", None),
            getattr(getattr(torch, "nn", None), "Module", None),
            getattr(getattr(torch, "optim", None), "Optimizer", None),
            getattr(getattr(getattr(torch, "optim", None), "lr_scheduler", None), "LRScheduler", None),
        ) if isinstance(kind, type)
    )
    return _holds(obj, kinds, depth)


def _holds(obj: Any, kinds: tuple[type, ...], depth: int) -> bool:
    if isinstance(obj, kinds):
        return True
    if depth == 0:
        return False
    if isinstance(obj, dict):
        return any(_holds(value, kinds, depth - 1) for value in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_holds(value, kinds, depth - 1) for value in obj)
    return False


class _ByValue(Exception):
    """Raised by `_Probe` at the first function or class that only cloudpickle can restore elsewhere."""


class _Probe(pickle.Pickler):
    """Pickles into nothing (arrays out of band: no copy), stopping at functions and classes that plain
    pickle would save by a reference another process cannot resolve."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (type, types.FunctionType)):
            module = getattr(obj, "__module__", None)
            qualname = getattr(obj, "__qualname__", "")
            if module in (None, "__main__") or "<locals>" in qualname or "<lambda>" in qualname:
                raise _ByValue
        return NotImplemented


class _Discard:
    def write(self, data: Any) -> int:
        return len(data)


def _needs_cloudpickle(obj: Any) -> bool:
    """Whether plain pickle (hence joblib) cannot save ``obj`` so that another process can load it."""
    try:
        _Probe(_Discard(), protocol=5, buffer_callback=lambda buffer: False).dump(obj)
    except Exception:  # _ByValue, or what plain pickle refuses (local objects, modules...): let cloudpickle try
        return True
    return False


def _existing_path(obj: Any, format: str) -> str:
    if not isinstance(obj, (str, os.PathLike)):
        raise invalid("obj", obj, f"a path (str or os.PathLike) to an existing {format} for format={format!r}",
                      "pass the path, or leave format=None to save the object itself")
    path = os.fspath(obj)
    if not (os.path.isfile(path) if format == "file" else os.path.isdir(path)):
        raise FileNotFoundError(
            f"obj={obj!r} is not an existing {'file' if format == 'file' else 'folder'} (looked for "
            f"{os.path.abspath(path)!r}); pass the path of one, or leave format=None"
        )
    return path


# --- folders as tar archives ---------------------------------------------------------------------------


def _anonymous(member: tarfile.TarInfo) -> tarfile.TarInfo:
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def _tar_folder(folder: str, out: IO[bytes]) -> None:
    """A tar archive of what ``folder`` holds (names relative to it, sorted; owners left out) into ``out``."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(folder)):
            tar.add(os.path.join(folder, name), arcname=name, filter=_anonymous)


def _extract(tar: tarfile.TarFile, destination: Path) -> None:
    """Extract every member into ``destination``, refusing any that would land outside it."""
    destination.mkdir()
    if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
        tar.extractall(destination, filter="data")
        return
    for member in tar:  # pragma: no cover - older Pythons
        target = os.path.normpath(os.path.join(destination, member.name))
        link = os.path.normpath(os.path.join(os.path.dirname(target), member.linkname)) if member.issym() else target
        if os.path.isabs(member.name) or not all(
            os.path.commonpath([destination, p]) == str(destination) for p in (target, link)
        ) or member.isdev() or member.islnk():
            raise tarfile.TarError(f"refusing to extract {member.name!r}: it would land outside {destination}")
        tar.extract(member, destination)


# --- restoring files and folders into the cache ---------------------------------------------------------


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    getuid = getattr(os, "getuid", None)
    if cache_dir is None and getuid is not None and root.stat().st_uid != getuid():
        raise PermissionError(
            f"the artifact cache {root} belongs to another user, so files restored there cannot be trusted; "
            "pass cache_dir= a folder of your own"
        )
    return root


def _restore(
    store: ArtifactStore, key: str, format: str, checksum: str | None, cache_dir: str | os.PathLike[str] | None,
) -> Path:
    root = _cache_root(cache_dir)
    name = key.rsplit("/", 1)[-1]
    if checksum is not None:
        cached = root / checksum.split(":", 1)[1] / name
        if cached.is_file() if format == "file" else cached.is_dir():
            return cached
    staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=root))
    try:
        with store.open(key) as source:
            hashing = HashingReader(source)
            if format == "file":
                with open(staging / name, "wb") as out:
                    shutil.copyfileobj(hashing, out, CHUNK_SIZE)
            else:
                with tarfile.open(fileobj=hashing, mode="r|") as tar:
                    _extract(tar, staging / name)
                hashing.drain()
        if checksum is not None and hashing.checksum != checksum:
            raise ArtifactCorrupted(key, store.url, expected=checksum, found=hashing.checksum)
        entry = root / hashing.checksum.split(":", 1)[1]
        entry.mkdir(exist_ok=True)
        cached = entry / name
        try:
            os.rename(staging / name, cached)
        except OSError:  # another load published the same bytes first: keep that copy
            if not cached.exists():
                raise
        return cached
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _seekable(source: IO[bytes]) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False
