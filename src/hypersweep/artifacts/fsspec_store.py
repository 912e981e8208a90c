"""`FsspecArtifactStore`: artifacts on any file system fsspec reaches (s3://, gs://, az://, sftp://, memory://).

A write fills a temporary object beside its key, then moves it into place: readers see the whole object or none.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import IO, Any

from hypersweep._validation import invalid
from hypersweep.artifacts._stream import copy_hashing
from hypersweep.artifacts.base import TEMP_PREFIX, ArtifactNotFound, ArtifactStore, check_key, check_prefix

__all__ = ["FsspecArtifactStore"]


class FsspecArtifactStore(ArtifactStore):
    """Objects under the fsspec URL ``url``; ``storage_options`` go to the file system (credentials,
    ``endpoint_url``, ...), as in ``fsspec.open``. Needs the package of the protocol (s3fs, gcsfs, adlfs...).

    On object stores the final object appears whole: it is written under a temporary key, then copied
    server-side. A pickled store carries ``url`` and ``storage_options``; note that ``memory://`` is private
    to each process.

    >>> store = FsspecArtifactStore("memory://doctest-artifacts")
    >>> store.write("3/checkpoint-7", b"weights")[0]
    7
    >>> with store.open("3/checkpoint-7") as f:
    ...     store.list(), f.read()
    (['3/checkpoint-7'], b'weights')
    >>> store.remove("3/checkpoint-7"); store.list()
    []
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        if not isinstance(url, str) or not url:
            raise invalid("url", url, "an fsspec URL (str)", "e.g. url='s3://my-bucket/artifacts'")
        from fsspec.core import url_to_fs

        self.url = url
        self.storage_options = storage_options
        self.fs, root = url_to_fs(url, **storage_options)
        self._root = root.rstrip("/")

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.url, self.storage_options)

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and other.storage_options == self.storage_options  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return super().__hash__()

    def _path(self, key: str) -> str:
        return f"{self._root}/{check_key(key)}"

    def write(self, key: str, data: bytes | bytearray | memoryview | IO[bytes]) -> tuple[int, str]:
        path = self._path(key)
        parent = path.rsplit("/", 1)[0]
        temporary = f"{parent}/{TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            try:
                out = self.fs.open(temporary, "wb")
            except FileNotFoundError:  # a file system with real folders (local, sftp): make them
                self.fs.makedirs(parent, exist_ok=True)
                out = self.fs.open(temporary, "wb")
            with out:
                size, checksum = copy_hashing(data, out)
            self.fs.mv(temporary, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(temporary)
            raise
        return size, checksum

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.fs.open(self._path(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFound(key, self.url) from None

    def remove(self, key: str) -> None:
        path = self._path(key)
        try:
            self.fs.rm_file(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        except (IsADirectoryError, PermissionError):
            if self.fs.isdir(path):  # a folder of other keys, not an object
                return
            raise

    def list(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        base = "/".join([self._root, *prefix.split("/")[:-1]])
        try:
            paths = self.fs.find(base)
        except FileNotFoundError:
            return []
        start = len(self._root) + 1
        keys = []
        for path in paths:
            key = path[start:] if path.startswith(self._root + "/") else None
            if key and key.startswith(prefix) and _is_key(key):
                keys.append(key)
        return sorted(keys)


def _is_key(key: str) -> bool:
    """Whether a listed path is a key (not a temporary object, nor a name `check_key` refuses)."""
    try:
        check_key(key)
    except ValueError:
        return False
    return True


def _rebuild(url: str, storage_options: dict[str, Any]) -> FsspecArtifactStore:
    return FsspecArtifactStore(url, **storage_options)
