"""POSTs to host-supplied callback URLs: pooled, never redirected, cut off at a wall-clock deadline.

requests bounds each socket read, not the whole exchange: an endpoint that drips one byte at a time
would hold a delivery for ever. So every socket a delivery uses is registered with its deadline, and
shut down when the deadline passes. Outside `local` the address actually connected to must be public,
whatever DNS said when the configuration was checked (DNS rebinding).
"""

import json
import socket
import threading

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .config import is_public_address

CONNECT_TIMEOUT = 3.05
MAX_REPLY_BYTES = 64 * 1024  # the host's answer is read (so the connection can be reused) up to this much
_current = threading.local()  # the delivery this thread is making, seen by the connections it opens


class DeliveryError(Exception):
    """One delivery attempt failed; the message says why and is recorded with the attempt."""


class _Attempt:
    """One delivery: its deadline, the sockets to shut down when it passes, and whether private peers are refused."""

    def __init__(self, deadline_seconds, public_only):
        self.public_only = public_only
        self.expired = False
        self._sockets = set()
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline_seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock):
        with self._lock:
            self._sockets.add(sock)
            if self.expired:
                _shut_down(sock)

    def _expire(self):
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut_down(sock)

    def __enter__(self):
        _current.attempt = self
        self._timer.start()
        return self

    def __exit__(self, *_):
        self._timer.cancel()
        _current.attempt = None


def _shut_down(sock):
    """Wake a read blocked on sock (close() alone would not) and end the connection."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _GuardedConnection:
    """Report each socket to the current attempt; refuse a non-public peer when the attempt asks."""

    def connect(self):
        super().connect()
        attempt = getattr(_current, "attempt", None)
        if attempt is None:
            return
        peer = self.sock.getpeername()[0]
        if attempt.public_only and not is_public_address(peer):
            self.close()
            raise DeliveryError(f"{self.host} resolves to {peer}, which is not a public address")
        attempt.watch(self.sock)

    def getresponse(self, *args, **kwargs):
        attempt = getattr(_current, "attempt", None)
        if attempt is not None and self.sock is not None:
            attempt.watch(self.sock)  # a pooled connection was connected by an earlier attempt
        return super().getresponse(*args, **kwargs)


class _HTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def new_session():
    """A pooled session for one host app's callbacks: one keep-alive connection, no retries, no environment."""
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc lookups on every callback; callbacks go straight out
    adapter = _GuardedAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post(session, url, body, headers, deadline_seconds, public_only):
    """POST body once; return only if the host answered 2xx within the deadline, else raise DeliveryError."""
    with _Attempt(deadline_seconds, public_only) as attempt:
        try:
            with session.post(url, data=body, headers=headers, allow_redirects=False, stream=True,
                              timeout=(CONNECT_TIMEOUT, deadline_seconds)) as response:
                _read_reply(response)
        except requests.RequestException as error:
            if attempt.expired:
                raise DeliveryError(f"no complete answer within {deadline_seconds} s") from None
            raise DeliveryError(f"{type(error).__name__}: {error}") from None
    if 300 <= response.status_code < 400:
        raise DeliveryError(f"callback answered {response.status_code}; redirects are never followed")
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"callback answered {response.status_code}")


def get_json(session, url, deadline_seconds, public_only, max_bytes=MAX_REPLY_BYTES):
    """GET a small JSON document from a host-supplied URL (an EHR's JWKS) under the same guards as a callback."""
    status, found = exchange_json(session, "GET", url, deadline_seconds, public_only, max_bytes=max_bytes)
    if status != 200:
        raise DeliveryError(f"{url} answered {status}")
    return found


def exchange_json(session, method, url, deadline_seconds, public_only, form=None, max_bytes=MAX_REPLY_BYTES):
    """Send one request to a host-supplied URL under a callback's guards; return (status, its JSON answer)."""
    with _Attempt(deadline_seconds, public_only) as attempt:
        try:
            with session.request(method, url, data=form, allow_redirects=False, stream=True,
                                 timeout=(CONNECT_TIMEOUT, deadline_seconds)) as response:
                body = response.raw.read(max_bytes + 1, decode_content=True)
        except requests.RequestException as error:
            raise DeliveryError("no complete answer in time" if attempt.expired else type(error).__name__) from None
    if len(body) > max_bytes:
        raise DeliveryError(f"{url} answered {response.status_code} ({len(body)} bytes)")
    try:
        return response.status_code, json.loads(body)
    except ValueError:
        raise DeliveryError(f"{url} answered {response.status_code}, not JSON") from None


def _read_reply(response):
    """Read the answer so the connection goes back to the pool; a longer one just closes it."""
    received = 0
    for chunk in response.iter_content(8192):
        received += len(chunk)
        if received > MAX_REPLY_BYTES:
            return
