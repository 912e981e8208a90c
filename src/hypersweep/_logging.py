"""Log records of a library logger sent somewhere for the duration of a block (a search's log file, a
search's ``verbose`` lines on standard output)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def attached(logger: logging.Logger, handler: logging.Handler, level: int = logging.INFO) -> Iterator[None]:
    """Records of ``logger`` at ``level`` and up go to ``handler`` inside the block; both are put back after.

    >>> import io
    >>> out, log = io.StringIO(), logging.getLogger("hypersweep.example")
    >>> with attached(log, logging.StreamHandler(out)):
    ...     log.info("seen")
    >>> log.info("not seen"); out.getvalue()
    'seen\\n'
    """
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()
