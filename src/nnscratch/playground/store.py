"""The sessions of the open tabs: at most ``max_sessions`` at once, each freed when its tab
closes (the page sends a close on ``pagehide``) or after ``idle_seconds`` without a request."""

import secrets
import threading
import time

from .session import RequestError, Session

MAX_SESSIONS = 8
IDLE_SECONDS = 15 * 60


class SessionStore:
    """id → :class:`Session`; ids are random (``secrets``), so one tab cannot guess another's."""

    def __init__(self, max_sessions=MAX_SESSIONS, idle_seconds=IDLE_SECONDS,
                 clock=time.monotonic):
        self.max_sessions, self.idle_seconds, self.clock = max_sessions, idle_seconds, clock
        self.sessions = {}
        self.lock = threading.Lock()

    def expire(self):
        """Free the sessions idle for longer than ``idle_seconds``; returns how many."""
        now = self.clock()
        with self.lock:
            old = [key for key, s in self.sessions.items()
                   if s is not None and now - s.last_used > self.idle_seconds]
            for key in old:
                del self.sessions[key]
        return len(old)

    def create(self, settings):
        """A new session for ``settings``: ``(id, session)``; refused (503) when full."""
        self.expire()
        with self.lock:
            if len(self.sessions) >= self.max_sessions:
                raise RequestError(f"the playground already has {self.max_sessions} sessions "
                                   "open (one per tab): close a tab and try again", status=503)
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
                raise RequestError("no such session (it expired or its tab was closed): "
                                   "reload the page", status=404)
            session.last_used = self.clock()
        return session

    def close(self, key):
        """Free the session ``key``; True if it was open."""
        with self.lock:
            return self.sessions.pop(key, None) is not None
