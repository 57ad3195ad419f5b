"""The sessions of the open tabs: at most ``max_sessions`` at once, each freed when its tab
closes (the page sends a close on ``pagehide``), after ``idle_seconds`` without a request, or
when a new tab needs its place and it is the least recently used; and
at most ``max_busy`` requests computing at once, whatever the number of tabs (:meth:`working`).
"""

import contextlib
import secrets
import threading
import time

from .session import RequestError, Session

MAX_SESSIONS = 8
IDLE_SECONDS = 15 * 60
#: requests that compute at the same time (one per core of a small machine), and how long one
#: waits for its turn before it is refused
MAX_BUSY = 2
BUSY_WAIT_SECONDS = 10.0


class SessionStore:
    """id → :class:`Session`; ids are random (``secrets``), so one tab cannot guess another's."""

    def __init__(
        self,
        max_sessions=MAX_SESSIONS,
        idle_seconds=IDLE_SECONDS,
        clock=time.monotonic,
        max_busy=MAX_BUSY,
        busy_wait=BUSY_WAIT_SECONDS,
    ):
        self.max_sessions, self.idle_seconds, self.clock = max_sessions, idle_seconds, clock
        self.sessions = {}
        self.lock = threading.Lock()
        self.max_busy, self.busy_wait = max_busy, busy_wait
        self._busy = threading.BoundedSemaphore(max_busy)

    @contextlib.contextmanager
    def working(self):
        """``with store.working():`` one of the ``max_busy`` places for a request that computes;
        after ``busy_wait`` seconds without one, refused (503): however many tabs learn at once,
        the machine runs at most ``max_busy`` of them."""
        if not self._busy.acquire(timeout=self.busy_wait):
            raise RequestError(
                f"the playground is busy with {self.max_busy} other requests: "
                "try again in a moment (or pause the other tabs)",
                status=503,
            )
        try:
            yield
        finally:
            self._busy.release()

    def expire(self):
        """Free the sessions idle for longer than ``idle_seconds``; returns how many."""
        now = self.clock()
        with self.lock:
            old = [
                key
                for key, s in self.sessions.items()
                if s is not None and now - s.last_used > self.idle_seconds
            ]
            for key in old:
                del self.sessions[key]
        return len(old)

    def create(self, settings):
        """A new session for ``settings``: ``(id, session)``. When all places are taken, the
        session least recently used gives up its place (a tab closed without its beacon, or one
        long idle; its page starts a new one if it comes back); refused (503) only when every
        session is computing."""
        self.expire()
        with self.lock:
            if len(self.sessions) >= self.max_sessions:
                idle = [
                    (s.last_used, key)
                    for key, s in self.sessions.items()
                    if s is not None and not s.lock.locked()
                ]
                if not idle:
                    raise RequestError(
                        f"the playground already has {self.max_sessions} sessions "
                        "computing (one per tab): try again in a moment",
                        status=503,
                    )
                del self.sessions[min(idle)[1]]
            key = secrets.token_urlsafe(16)
            self.sessions[key] = None  # the place is taken while the network is built
        try:
            session = Session(settings)
        except BaseException:
            with self.lock:
                del self.sessions[key]
            raise
        session.last_used = self.clock()
        with self.lock:
            self.sessions[key] = session
        return key, session

    def get(self, key):
        """The session ``key``, marked as used now; 404 when it is unknown or expired."""
        self.expire()
        with self.lock:
            session = self.sessions.get(key)
            if session is None:
                raise RequestError(
                    "no such session (it expired or its tab was closed): reload the page",
                    status=404,
                )
            session.last_used = self.clock()
        return session

    def close(self, key):
        """Free the session ``key``; True if it was open."""
        with self.lock:
            return self.sessions.pop(key, None) is not None
