"""A client-side limiter that keeps a bulk job within an upstream's requests-per-window limit."""

import collections
import threading
import time


class LimiterClosed(Exception):
    """The job is stopping: no more requests may start."""


class RateLimiter:
    """At most `limit` requests in any `period` seconds as the server counts them, started evenly spaced.

    Starts are period/limit apart, so the server sees a steady flow rather than bursts. A request's
    place in the window is given back `period` seconds after its answer arrived, not after it was
    sent: the server counted the request before then, so network jitter can never put limit + 1
    requests in one of its windows (a fixed window or a sliding one).
    """

    def __init__(self, limit, period):
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs at least one request per positive period")
        self.limit, self.period, self.interval = limit, period, period / limit
        self._condition = threading.Condition()
        self._in_flight = 0
        self._returns = collections.deque()  # monotonic times at which spent places come back, in order
        self._next_start = time.monotonic()
        self._closed = False

    def acquire(self):
        """Block until a request may start and return when it was let start; raise LimiterClosed once stopping."""
        with self._condition:
            while True:
                if self._closed:
                    raise LimiterClosed
                now = time.monotonic()
                while self._returns and self._returns[0] <= now:
                    self._returns.popleft()
                if self._in_flight + len(self._returns) >= self.limit:
                    wait = self._returns[0] - now if self._returns else None
                elif now < self._next_start:
                    wait = self._next_start - now
                else:
                    break
                self._condition.wait(wait)
            self._in_flight += 1
            self._next_start = now + self.interval
            return now

    def release(self):
        """Record that a request's answer arrived: its place in the window comes back one period later."""
        with self._condition:
            self._in_flight -= 1
            self._returns.append(time.monotonic() + self.period)
            self._condition.notify_all()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()

    def pause(self, seconds):
        """Start nothing for `seconds`: the server asked for it (Retry-After)."""
        with self._condition:
            self._next_start = max(self._next_start, time.monotonic() + seconds)

    def close(self):
        """Stop the job: waiting and future acquire() calls raise LimiterClosed."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
