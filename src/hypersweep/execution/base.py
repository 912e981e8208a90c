"""The executor contract: run callables somewhere and hand back `concurrent.futures.Future`s.

Executors know nothing about samplers or storage; `Study.optimize` drives them.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

__all__ = ["BaseExecutor"]


class BaseExecutor(abc.ABC):
    """Runs up to `n_workers` calls at once.

    ``in_process`` is True when the callables run in this process (so trials can report to the study
    directly); otherwise they reach it through a `hypersweep.execution.channel.ReportServer`.
    """

    n_workers: int = 1
    in_process: bool = False

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Schedule ``fn(*args)``; the future's result is its return value (or its exception)."""

    def report_host(self) -> str:
        """Address on which workers can reach this process (for trial reports)."""
        return "127.0.0.1"

    def wait(self, futures: Collection[Future], timeout: float | None = None) -> set[Future]:
        """Block until at least one of ``futures`` is done (or ``timeout`` seconds pass); the done ones.

        The study's loop waits through this, so an executor with its own notion of time (the simulated
        clock of `hypersweep.testing.simulator`) decides what "waiting" means.
        """
        done, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        return done

    def time(self) -> float:
        """Seconds on this executor's clock (for ``timeout=``): `time.monotonic` unless simulated."""
        return time.monotonic()

    def shutdown(self, wait: bool = True) -> None:  # noqa: B027 - optional hook
        """Release workers; running calls are left to finish when ``wait``."""

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown(wait=exc[0] is None)
