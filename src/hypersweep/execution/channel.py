"""How a running trial talks back to its study: reports, saved artifacts and attributes in; decisions out.

In-process executors call the study directly (`LocalChannel`); worker processes, Dask and Ray workers
connect to a small `ReportServer` that the optimizing process runs in a background thread (`RemoteChannel`).
A call is ``(method, trial_id, *args)``; the study's handler answers it, and an error it raises is raised
again in the worker (a `TypeError` for a non-JSON attribute, say).
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

#: handler(method, trial_id, *args) -> answer; methods: "report", "should_stop", "artifact", "user_attr"
Handler = Callable[..., Any]

_ERRORS: dict[str, type[Exception]] = {
    "TypeError": TypeError,
    "ValueError": ValueError,
    "KeyError": KeyError,
    "LookupError": LookupError,
}


class Channel(Protocol):
    def call(self, method: str, trial_id: int, *args: Any) -> Any:
        """Send one call to the study and return its answer."""


class LocalChannel:
    """Calls the handler in this process (serial and thread executors, drivers)."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    def call(self, method: str, trial_id: int, *args: Any) -> Any:
        return self._handler(method, trial_id, *args)


class RemoteChannel:
    """Sends calls to a `ReportServer`; picklable (the connection opens on first use in the worker)."""

    def __init__(self, address: tuple[str, int], authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey
        self._conn: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["address"], state["authkey"])  # type: ignore[misc]

    def call(self, method: str, trial_id: int, *args: Any) -> Any:
        with self._lock:
            if self._conn is None:
                self._conn = Client(self.address, authkey=self.authkey)
            self._conn.send((method, trial_id, args))
            status, *answer = self._conn.recv()
        if status == "ok":
            return answer[0]
        kind, message = answer
        raise _ERRORS.get(kind, RuntimeError)(message)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class ReportServer:
    """Accepts connections from workers and answers each call with the handler's result.

    >>> server = ReportServer(lambda method, trial_id, step, value: step >= 3)
    >>> channel = server.channel()
    >>> channel.call("report", 0, 1, 0.5), channel.call("report", 0, 3, 0.4)
    (False, True)
    >>> server.close()
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
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
                    method, trial_id, args = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    answer: tuple = ("ok", self._handler(method, trial_id, *args))
                except Exception as exc:
                    kind = next((name for name, cls in _ERRORS.items() if isinstance(exc, cls)), None)
                    if kind is None:
                        logger.exception("%s of trial %s failed", method, trial_id)
                    answer = ("error", kind or type(exc).__name__, str(exc))
                try:
                    conn.send(answer)
                except OSError:
                    return

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
