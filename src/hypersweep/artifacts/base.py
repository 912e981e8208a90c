"""The artifact store contract (write / open / remove / list bytes under keys) and the errors it raises.

Stores hold the bytes of trials' checkpoints and files; storage only records references to them (`Artifact`).
"""

from __future__ import annotations

import abc
from typing import IO, Any

from hypersweep._validation import invalid

__all__ = ["ArtifactCorrupted", "ArtifactNotFound", "ArtifactStore", "TEMP_PREFIX", "check_key", "check_prefix"]

#: name prefix of the temporary objects a write fills before moving them into place; never a key
TEMP_PREFIX = ".hs-tmp-"

_KEY_RULES = "a relative '/'-separated path with no empty, '.' or '..' segment"


class ArtifactNotFound(FileNotFoundError):
    """No object is stored under ``key`` in the store at ``store`` (a URL).

    >>> str(ArtifactNotFound("3/checkpoint-7", "/tmp/artifacts")).split(";")[0]
    "no artifact '3/checkpoint-7' in the artifact store /tmp/artifacts"
    """

    def __init__(self, key: str, store: str) -> None:
        super().__init__(
            f"no artifact {key!r} in the artifact store {store}; it was never written there, or it was "
            "deleted (by a Retention policy, or by hand); list what is there with store.list()"
        )
        self.key = key
        self.store = store

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.key, self.store)


class ArtifactCorrupted(OSError):
    """The bytes under ``key`` do not have the checksum recorded when they were saved.

    >>> err = ArtifactCorrupted("3/model", "/tmp/a", expected="sha256:aa", found="sha256:bb")
    >>> err.expected, err.found
    ('sha256:aa', 'sha256:bb')
    """

    def __init__(self, key: str, store: str, expected: str, found: str) -> None:
        super().__init__(
            f"artifact {key!r} in the artifact store {store} is corrupted: expected checksum {expected}, found "
            f"{found}; it was changed or truncated after it was saved. Save it again (re-run the trial), or "
            "restore that object from a backup"
        )
        self.key = key
        self.store = store
        self.expected = expected
        self.found = found

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.key, self.store, self.expected, self.found)


def check_key(key: Any, name: str = "key") -> str:
    """``key`` if it is a valid key: a relative "/"-separated path; an `InvalidParameterError` otherwise.

    >>> check_key("0/checkpoint-3")
    '0/checkpoint-3'
    >>> check_key("../x")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    hypersweep._validation.InvalidParameterError: key must be a relative '/'-separated path ...
    """
    if not isinstance(key, str):
        raise invalid(name, key, f"a str: {_KEY_RULES}", "e.g. key='trial-3/checkpoint-7'")
    if not key:
        raise invalid(name, key, f"not empty: {_KEY_RULES}", "e.g. key='trial-3/checkpoint-7'")
    _check_segments(key, key.split("/"), name)
    return key


def check_prefix(prefix: Any) -> str:
    """``prefix`` if it may start keys: "" or a relative path whose last segment may be partial ("3/" lists
    folder 3, "3/check" the keys of folder 3 starting with "check"); an `InvalidParameterError` otherwise.

    >>> check_prefix("0/")
    '0/'
    """
    if not isinstance(prefix, str):
        raise invalid("prefix", prefix, "a str", "e.g. prefix='trial-3/' for the keys in that folder")
    if prefix:
        _check_segments(prefix, prefix.split("/")[:-1], "prefix")  # the last segment may be partial
    return prefix


def _check_segments(value: str, segments: list[str], name: str) -> None:
    if value.startswith("/"):
        raise invalid(name, value, f"relative: {_KEY_RULES}", f"drop the leading '/': {name}={value.lstrip('/')!r}")
    if "\\" in value or "\0" in value:
        raise invalid(name, value, f"{_KEY_RULES} and no backslash or NUL", "separate segments with '/'")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise invalid(
                name, value, _KEY_RULES,
                "remove the empty, '.' and '..' segments; keys cannot leave the store's root",
            )
        if segment.startswith(TEMP_PREFIX):
            raise invalid(
                name, value, f"{_KEY_RULES} whose segments do not start with {TEMP_PREFIX!r}",
                f"that prefix marks temporary objects of unfinished writes; rename the segment {segment!r}",
            )


class ArtifactStore(abc.ABC):
    """Where the bytes of trials' checkpoints and files live: objects under "/"-separated keys.

    Implementations give four operations. `write` is atomic: a reader (or a process killed mid-write) never
    sees part of an object under its key: only the previous object, or none, or the whole new one. ``url``
    is a string from which `get_artifact_store` builds the same store in another process; the stores
    hypersweep ships pickle as it, so worker processes receive them cheaply.

    >>> from hypersweep.artifacts import FsspecArtifactStore
    >>> store = FsspecArtifactStore("memory://doctest-contract")
    >>> store.write("0/notes.txt", b"hello")
    (5, 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')
    >>> with store.open("0/notes.txt") as f:
    ...     f.read(), store.list()
    (b'hello', ['0/notes.txt'])
    """

    #: a string that `get_artifact_store(url)` turns into the same store, in any process that reaches it
    url: str

    @abc.abstractmethod
    def write(self, key: str, data: bytes | bytearray | memoryview | IO[bytes]) -> tuple[int, str]:
        """Store ``data`` (bytes, or a binary file object read to its end) under ``key``, atomically,
        replacing what was there; returns its (size in bytes, checksum "sha256:<hex>")."""

    @abc.abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A binary file object reading the object under ``key`` (close it, or use ``with``); raises
        `ArtifactNotFound` when there is none."""

    @abc.abstractmethod
    def remove(self, key: str) -> None:
        """Delete the object under ``key``; a key with no object is fine (nothing happens)."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """The keys starting with ``prefix`` (a plain string prefix, as object stores use: pass "3/" for
        the keys in folder 3), sorted; never the temporary objects of unfinished writes."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.url == self.url  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.url))
