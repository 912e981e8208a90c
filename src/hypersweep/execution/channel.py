"""How a running trial talks back to its study: reports in, stop decisions out.

In-process executors call the study directly (`LocalChannel`); worker processes and Dask workers connect to
a small `ReportServer` that the optimizing process runs in a background thread (`RemoteChannel`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Listener
from typing import Any, Protocol

__all__ = ["Channel", "LocalChannel", "RemoteChannel", "ReportServer"]

logger = logging.getLogger(__name__)

#: handler(trial_id, step, value) -> should the trial stop?
ReportHandler = Callable[[int, "int | None", "float | None"], bool]


class Channel(Protocol):
    def report(self, trial_id: int, step: int, value: float) -> bool:
        """Record ``value`` at ``step``; True when the trial should stop."""

    def should_stop(self, trial_id: int) -> bool:
        """True when the scheduler has told this trial to stop."""


class LocalChannel:
    """Calls the handler in this process (serial and thread executors)."""

    def __init__(self, handler: ReportHandler) -> None:
        self._handler = handler

    def report(self, trial_id: int, step: int, value: float) -> bool:
        return self._handler(trial_id, step, value)

    def should_stop(self, trial_id: int) -> bool:
        return self._handler(trial_id, None, None)


class RemoteChannel:
    """Sends reports to a `ReportServer`; picklable (the connection opens on first use in the worker)."""

    def __init__(self, address: tuple[str, int], authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey
        self._conn: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["address"], state["authkey"])  # type: ignore[misc]

    def _call(self, message: tuple) -> bool:
        with self._lock:
            if self._conn is None:
                self._conn = Client(self.address, authkey=self.authkey)
            self._conn.send(message)
            return bool(self._conn.recv())

    def report(self, trial_id: int, step: int, value: float) -> bool:
        return self._call((trial_id, step, value))

    def should_stop(self, trial_id: int) -> bool:
        return self._call((trial_id, None, None))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class ReportServer:
    """Accepts report connections from workers and answers each message with the handler's verdict.

    >>> server = ReportServer(lambda trial_id, step, value: step is not None and step >= 3)
    >>> channel = server.channel()
    >>> channel.report(0, 1, 0.5), channel.report(0, 3, 0.4)
    (False, True)
    >>> server.close()
    """

    def __init__(self, handler: ReportHandler, host: str = "127.0.0.1") -> None:
        self._handler = handler
        self._authkey = secrets.token_bytes(16)
        self._listener = Listener((host, 0), authkey=self._authkey)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hypersweep-reports", daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.address

    def channel(self) -> RemoteChannel:
        return RemoteChannel(self.address, self._authkey)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._listener.accept()
            except Exception:  # closed listener or a failed handshake
                if self._closed.is_set():
                    return
                logger.debug("report connection refused", exc_info=True)
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Any) -> None:
        with conn:
            while not self._closed.is_set():
                try:
                    trial_id, step, value = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    verdict = self._handler(trial_id, step, value)
                except Exception:
                    logger.exception("report of trial %s at step %s failed", trial_id, step)
                    verdict = False
                try:
                    conn.send(verdict)
                except OSError:
                    return

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
