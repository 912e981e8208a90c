"""Where trials' checkpoints and files live: artifact stores (a local folder, any fsspec URL), how objects
become bytes there and back, and the retention policy that decides which checkpoints to keep.

>>> import tempfile
>>> from hypersweep.artifacts import Retention, get_artifact_store, load_object, save_object
>>> folder = tempfile.TemporaryDirectory()
>>> store = get_artifact_store(folder.name)  # or "s3://bucket/prefix", "memory://...", an ArtifactStore
>>> size, checksum, fmt = save_object(store, "7/checkpoint-3", {"weights": [0.5, 1.5], "epoch": 3})
>>> fmt, load_object(store, "7/checkpoint-3", fmt, checksum)["epoch"]
('joblib', 3)
>>> policy = Retention(keep_last=1, keep_best=3)  # what a study keeps: see RetentionTracker
>>> folder.cleanup()
"""

from __future__ import annotations

import os
import re
from typing import Any

from hypersweep._validation import invalid
from hypersweep.artifacts.base import ArtifactCorrupted, ArtifactNotFound, ArtifactStore
from hypersweep.artifacts.fsspec_store import FsspecArtifactStore  # imports fsspec only when one is made
from hypersweep.artifacts.local import LocalArtifactStore
from hypersweep.artifacts.memory import MemoryArtifactStore
from hypersweep.artifacts.retention import Retention, RetentionTracker
from hypersweep.artifacts.serialization import FORMATS, default_cache_dir, detect_format, load_object, save_object

__all__ = [
    "FORMATS",
    "ArtifactCorrupted",
    "ArtifactNotFound",
    "ArtifactStore",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "MemoryArtifactStore",
    "Retention",
    "RetentionTracker",
    "default_cache_dir",
    "detect_format",
    "get_artifact_store",
    "load_object",
    "save_object",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)://")
_LOCAL_SCHEMES = ("file", "local")


def get_artifact_store(spec: Any, name: str = "artifact_store") -> ArtifactStore:
    """Resolve what a user passes as an artifact store: an `ArtifactStore` -> itself; a folder path (str or
    os.PathLike) or a ``file://`` URL -> `LocalArtifactStore`; any other URL ("s3://bucket/prefix",
    "gs://...", "memory://...", chained "simplecache::s3://...") -> `FsspecArtifactStore`.

    ``name`` is the parameter named in the error for anything else.

    >>> get_artifact_store("file:///tmp/artifacts")
    LocalArtifactStore('/tmp/artifacts')
    >>> get_artifact_store("memory://studies")
    FsspecArtifactStore('memory://studies')
    """
    if isinstance(spec, ArtifactStore):
        return spec
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str) or not spec:
        raise invalid(
            name, spec, "a folder path, a URL such as 's3://bucket/prefix', or an ArtifactStore",
            f"e.g. {name}='artifacts' for a local folder",
        )
    scheme = _SCHEME.match(spec)
    if scheme is None and "::" not in spec:
        return LocalArtifactStore(spec)
    if scheme is not None and scheme.group(1).lower() in _LOCAL_SCHEMES:
        return LocalArtifactStore(spec[scheme.end() :])
    return FsspecArtifactStore(spec)
