"""Byte streaming shared by the stores and the serializers: chunked copies that hash as they go.

Nothing here holds a whole object in memory: data moves in `CHUNK_SIZE` pieces.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import IO, Any

from hypersweep._validation import invalid

__all__ = ["CHUNK_SIZE", "HashingReader", "chunks", "copy_hashing", "digest", "is_readable"]

#: bytes read or written at a time
CHUNK_SIZE = 1 << 20


def is_readable(data: Any) -> bool:
    """Whether ``data`` is a file object to read from (rather than bytes)."""
    return callable(getattr(data, "read", None))


def chunks(data: bytes | bytearray | memoryview | IO[bytes]) -> Iterator[bytes | memoryview]:
    """The pieces of ``data``: bytes-like data whole, a binary file object `CHUNK_SIZE` at a time."""
    if isinstance(data, memoryview) and (data.ndim != 1 or data.itemsize != 1):
        data = data.cast("B")  # count bytes, not items (raises for a non-contiguous view)
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield data
        return
    if not is_readable(data):
        raise invalid(
            "data", data, "bytes or a binary file object opened for reading",
            "pass the bytes, or open the file with open(path, 'rb')",
        )
    while True:
        piece = data.read(CHUNK_SIZE)
        if not piece:
            return
        if isinstance(piece, str):
            raise invalid(
                "data", data, "bytes or a binary file object opened for reading",
                "open the file in binary mode, open(path, 'rb'), not in text mode",
            )
        yield piece


def digest(hasher: Any) -> str:
    """The "sha256:<hex>" checksum of a finished ``hashlib.sha256()``."""
    return f"sha256:{hasher.hexdigest()}"


def copy_hashing(data: bytes | bytearray | memoryview | IO[bytes], out: IO[bytes]) -> tuple[int, str]:
    """Copy ``data`` into the binary file ``out``; its (size, "sha256:<hex>").

    >>> copy_hashing(b"abc", io.BytesIO())[0]
    3
    """
    hasher = hashlib.sha256()
    size = 0
    for piece in chunks(data):
        hasher.update(piece)
        out.write(piece)
        size += len(piece)
    return size, digest(hasher)


class HashingReader(io.RawIOBase):
    """A read-only binary stream over ``source`` that hashes what passes through it.

    `checksum` is final once `drain` was called (it reads what the consumer left unread).

    >>> reader = HashingReader(io.BytesIO(b"abc"))
    >>> reader.read(2), reader.drain().size
    (b'ab', 3)
    """

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self._hasher = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self._source.read(len(buffer))
        n = len(piece)
        buffer[:n] = piece
        self._hasher.update(piece)
        self.size += n
        return n

    def drain(self) -> HashingReader:
        """Read (and hash) the rest of the source; returns self."""
        while self.read(CHUNK_SIZE):
            pass
        return self

    @property
    def checksum(self) -> str:
        return digest(self._hasher)
