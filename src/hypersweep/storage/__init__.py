"""Where studies and trials live: in memory, or in a SQL database through SQLAlchemy.

`get_storage` turns what a user passes as ``storage=`` (None, a URL, a storage object) into a backend.
"""

from __future__ import annotations

from hypersweep.storage.base import (
    BaseStorage,
    DuplicatedStudyError,
    MultiWriterNotSupported,
    StudyNotFound,
    StudyRecord,
    TrialAlreadyFinished,
)
from hypersweep.storage.memory import InMemoryStorage

__all__ = [
    "BaseStorage",
    "DuplicatedStudyError",
    "InMemoryStorage",
    "MultiWriterNotSupported",
    "StudyNotFound",
    "StudyRecord",
    "TrialAlreadyFinished",
    "get_storage",
]


def get_storage(storage: str | BaseStorage | None) -> BaseStorage:
    """Resolve ``storage=``: None -> in memory; a SQLAlchemy URL -> `SQLStorage`; a backend -> itself.

    >>> type(get_storage(None)).__name__
    'InMemoryStorage'
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, str):
        from hypersweep.storage.sql import SQLStorage

        return SQLStorage(storage)
    raise TypeError(
        f"storage= must be None, a database URL such as 'sqlite:///results.db', or a BaseStorage; "
        f"got {type(storage).__name__}"
    )
