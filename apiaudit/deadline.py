"""One overall deadline per command (``--deadline``), on the monotonic clock, and a watchdog that cuts
a blocking call when it passes.

Per-read socket timeouts alone do not bound a command: a peer that trickles one byte just inside
the timeout, or that completes authentication and then never answers, keeps it running for ever.
Every collector therefore caps its waits with :meth:`Deadline.cap`, and blocking drivers whose
reads cannot be capped from outside (libpq, redis-py) get a :class:`Watchdog` that shuts their
socket down when the deadline passes, so the blocked read returns with an error at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

# Defaults (README "Safety"): a scan of 500 requests at 4 per host and ~1 s each needs about two
# minutes, so 300 s leaves room for slow APIs; the db audit's catalog queries and 20 EXPLAINs take
# seconds on thousands of tables (bench/db_catalog.py: 0.95 s), 120 s covers a slow server; the cache
# audit reads INFO and samples 1,000 keys within its 5 s time cap, 60 s covers several servers.
DEFAULT_DEADLINE_S = {"scan": 300.0, "db": 120.0, "cache": 60.0}
MAX_SECONDS = 7 * 24 * 3600.0  # larger values are typos (and overflow event-loop timers)


class Deadline:
    """``Deadline(30)`` expires 30 s after it is made (monotonic time, immune to clock changes)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.started = time.monotonic()
        self.ends = self.started + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.ends

    def cap(self, seconds: float) -> float:
        """``seconds`` or what is left of the deadline, whichever is shorter (never negative)."""
        return max(0.0, min(seconds, self.remaining()))

    def share(self, parts_left: int) -> Deadline:
        """A deadline for the next of ``parts_left`` parts: an equal share of what is left, so one
        stalling server cannot use up the time of the others."""
        share = Deadline(self.seconds)  # reports still name the deadline the user set
        share.ends = share.started + self.remaining() / max(1, parts_left)
        return share

    def reached(self, what: str) -> str:
        return f"deadline of {self.seconds:g} s reached {what}"


class Watchdog:
    """Call ``cut`` once if the ``with`` block is still running when ``deadline`` passes."""

    def __init__(self, deadline: Deadline, cut: Callable[[], None]) -> None:
        self.deadline = deadline
        self.fired = False
        self._cut = cut
        self._timer = threading.Timer(deadline.remaining(), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(Exception):  # the connection may be closing already
            self._cut()

    def start(self) -> Watchdog:
        """Start watching without a ``with`` block (``cut`` must then be harmless after the work ends)."""
        self._timer.start()
        return self

    def __enter__(self) -> Watchdog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


@contextlib.contextmanager
def watching(deadline: Deadline | None, cut: Callable[[], None]) -> Iterator[Watchdog | None]:
    if deadline is None:
        yield None
        return
    with Watchdog(deadline, cut) as dog:
        yield dog


def shutdown_fd(fd: int) -> None:
    """Shut a connected socket down by descriptor: a read blocked on it in another thread returns."""
    if fd < 0:
        return
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()  # the descriptor belongs to the driver; do not close it under its feet


def cut_session(conn: object) -> None:
    """End a database session from another thread: ask the server to cancel the running statement
    (bounded), then shut the socket down so a client blocked on a silent peer returns at once."""
    if getattr(conn, "closed", True):
        return
    cancel = getattr(conn, "cancel_safe", None)
    if cancel is not None:
        with contextlib.suppress(Exception):
            cancel(timeout=1.0)
    fileno = getattr(conn, "fileno", None)
    if fileno is not None:
        shutdown_fd(fileno())
