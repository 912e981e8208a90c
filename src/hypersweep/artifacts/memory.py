"""`MemoryArtifactStore`: artifacts as bytes in this process's memory, for tests and simulations.

Each write replaces one dict entry at once, so it is atomic; nothing outlives the process or leaves it.
"""

from __future__ import annotations

import io
import threading
import uuid
from typing import IO, Any

from hypersweep.artifacts._stream import copy_hashing
from hypersweep.artifacts.base import ArtifactNotFound, ArtifactStore, check_key, check_prefix

__all__ = ["MemoryArtifactStore"]


class MemoryArtifactStore(ArtifactStore):
    """Objects in a dict of this process. It cannot be sent to worker processes (it refuses to pickle): use it
    with the serial and thread executors, e.g. on the simulated clock of `hypersweep.testing`.

    >>> store = MemoryArtifactStore()
    >>> store.write("3/checkpoint-7", b"weights")[0]
    7
    >>> store.list(), store.open("3/checkpoint-7").read()
    (['3/checkpoint-7'], b'weights')
    """

    def __init__(self) -> None:
        self.url = f"in-process memory {uuid.uuid4().hex[:8]}"
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(
            "a MemoryArtifactStore lives in this process's memory and cannot be sent to another; use a folder "
            "or an fsspec URL for artifacts= with process, Dask or Ray workers"
        )

    def write(self, key: str, data: bytes | bytearray | memoryview | IO[bytes]) -> tuple[int, str]:
        check_key(key)
        buffer = io.BytesIO()
        size, checksum = copy_hashing(data, buffer)
        with self._lock:
            self._objects[key] = buffer.getvalue()
        return size, checksum

    def open(self, key: str) -> IO[bytes]:
        check_key(key)
        with self._lock:
            if key not in self._objects:
                raise ArtifactNotFound(key, self.url)
            return io.BytesIO(self._objects[key])

    def remove(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        with self._lock:
            return sorted(k for k in self._objects if k.startswith(prefix))
