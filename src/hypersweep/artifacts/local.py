"""`LocalArtifactStore`: artifacts as files under a root folder (a local disk, or a shared NFS mount).

Writes go to a temporary file in the target folder, are flushed and fsynced, then renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Any

from hypersweep.artifacts._stream import copy_hashing
from hypersweep.artifacts.base import TEMP_PREFIX, ArtifactNotFound, ArtifactStore, check_key, check_prefix

__all__ = ["LocalArtifactStore"]


class LocalArtifactStore(ArtifactStore):
    """Objects as files under ``root``; key "3/checkpoint-7" is the file ``root/3/checkpoint-7``.

    Folders (``root`` included) are made on the first write into them and removed once empty. ``url`` is
    the absolute path of ``root``: a store pickled to another process on the same machine (or one with the
    same mount) opens the same folder. Writes are atomic either way (a killed writer never leaves a partial
    file under a key); ``fsync=True`` (the default) also flushes each file and its folder to the disk, so
    that a checkpoint outlives a power cut, at about a millisecond per write.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> store = LocalArtifactStore(folder.name)
    >>> store.write("3/checkpoint-7", b"weights")[0]
    7
    >>> with store.open("3/checkpoint-7") as f:
    ...     store.list("3/"), f.read()
    (['3/checkpoint-7'], b'weights')
    >>> folder.cleanup()
    """

    def __init__(self, root: str | os.PathLike[str], fsync: bool = True) -> None:
        if not isinstance(root, (str, os.PathLike)) or not os.fspath(root):
            from hypersweep._validation import invalid

            raise invalid("root", root, "a folder path (str or os.PathLike)", "e.g. root='artifacts'")
        self.root = Path(os.path.abspath(os.fspath(root)))
        self.url = str(self.root)
        self.fsync = bool(fsync)

    def __reduce__(self) -> tuple[Any, ...]:
        return LocalArtifactStore, (self.url, self.fsync)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def write(self, key: str, data: bytes | bytearray | memoryview | IO[bytes]) -> tuple[int, str]:
        path = self._path(key)
        folder = path.parent
        temporary, fd = _create_temporary(folder)
        try:
            with os.fdopen(fd, "wb") as out:
                size, checksum = copy_hashing(data, out)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        if self.fsync:
            _fsync_folder(folder)
        return size, checksum

    def open(self, key: str) -> IO[bytes]:
        path = self._path(key)
        try:
            return open(path, "rb")  # the caller closes it
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFound(key, self.url) from None
        except PermissionError:
            if path.is_dir():  # Windows reports a folder as a permission error
                raise ArtifactNotFound(key, self.url) from None
            raise

    def remove(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():  # a folder of other keys, not an object
            return
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        _remove_empty_folders(path.parent, self.root)

    def list(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        complete = prefix.split("/")[:-1]  # the folder every matching key lies in
        base = self.root.joinpath(*complete)
        keys = []
        for folder, subfolders, files in os.walk(base):
            subfolders[:] = [name for name in subfolders if not name.startswith(TEMP_PREFIX)]
            relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for name in files:
                if name.startswith(TEMP_PREFIX):
                    continue
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


def _create_temporary(folder: Path) -> tuple[str, int]:
    """A new temporary file in ``folder`` (made if needed) opened for writing: (path, descriptor).

    Made with the usual permissions (0o666 less the umask), unlike `tempfile.mkstemp`'s 0o600, so that the
    renamed file is readable as any other file the user writes.
    """
    for attempt in range(5):
        folder.mkdir(parents=True, exist_ok=True)
        path = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileNotFoundError:  # a concurrent remove() pruned the folder just made empty: make it again
            if attempt == 4:
                raise
        except FileExistsError:  # 64 random bits collided: draw again
            pass
    raise FileExistsError(f"could not create a temporary file in {folder}")  # pragma: no cover


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened or synced (Windows, some
    network file systems)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_empty_folders(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (another key, or a write in progress), or gone already
            return
        folder = folder.parent
