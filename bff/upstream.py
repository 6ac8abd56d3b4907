"""The one module that talks to Osigu: cached OAuth tokens, timeouts, retries, idempotency keys, bulkheads.

One UpstreamClient per set of Osigu credentials (tenant). Tokens come from Authlib's requests
client with the client-credentials grant; the client caches them for 5/6 of their lifetime and
fetches them single-flight, because Authlib alone neither locks nor handles a 401. Given a shared token
cache (bff/shared_tokens.py, with BFF_REDIS_URL) the cache and the single flight span every replica.

Every call runs in a request thread of the BFF, so none may hold it for long: retries wait at most
RETRY_BUDGET seconds in all (a longer Retry-After goes back to the caller as a retryable error),
and a Bulkhead caps the calls in flight per tenant and overall, so threads stay free for /healthz
and for the other tenants whatever Osigu does.
"""

import email.utils
import logging
import os
import threading
import time
import uuid
from urllib.parse import quote

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = (429, 502, 503, 504)
# (connect, read) seconds. Osigu answers in well under a second; a slow upstream must not hold workers.
DEFAULT_TIMEOUT = (3.05, 15)
# Osigu's answer to a request whose Idempotency-Key is still being processed (a concurrent double click):
# waiting and sending it again gets the first request's response. The first request may take as long as
# its read timeout, so the waits (doubling, then steady) go on that long before the caller hears 409.
IN_PROGRESS = (409, "000-409")
IN_PROGRESS_FIRST_WAIT, IN_PROGRESS_LONGEST_WAIT = 0.1, 1.6
# Used when a token response has no expires_in: Authlib would otherwise never refresh it.
FALLBACK_TOKEN_LIFETIME = 300
TOKEN_REFRESH_FRACTION = 5 / 6
# Seconds a request thread may sleep between retries of one call, in all; and how many retries at most.
RETRY_BUDGET = 2.0
MAX_RETRIES = 3
BACKOFF_SECONDS = 0.2
JSON_TYPES = ("application/json", "application/problem+json")


def _in_progress_waits(timeout):
    """Waits for a request with the same Idempotency-Key to finish: together longer than its read timeout."""
    patience = timeout[1] if isinstance(timeout, tuple) else timeout
    wait, waited = IN_PROGRESS_FIRST_WAIT, 0.0
    while waited <= patience:
        yield wait
        waited += wait
        wait = min(wait * 2, IN_PROGRESS_LONGEST_WAIT)


def path(template, *segments):
    """Fill template's {} with segments, each quoted whole: an id from input can never add a segment or a query."""
    return template.format(*(quote(str(segment), safe="") for segment in segments))


class UpstreamError(Exception):
    """Osigu answered with an error, or could not be reached; carries the one error shape."""

    def __init__(self, status, error_code, message, details=None, retryable=False, retry_after=None):
        super().__init__(f"{status} {error_code}: {message}")
        self.status, self.error_code, self.message = status, error_code, message
        self.details, self.retryable, self.retry_after = details, retryable, retry_after


def busy(message="Too many calls to Osigu are in flight; try again in a moment."):
    """The error for a call refused by a bulkhead: nothing was sent, so retrying is safe."""
    return UpstreamError(503, "BFF-BUSY", message, retryable=True, retry_after="1")


def malformed(what):
    """The error for a 2xx answer that is not the JSON Osigu sends (an intermediary's page, a cut-off body)."""
    return UpstreamError(502, "BFF-UPSTREAM-BODY", f"Osigu's answer could not be read ({what}); try again.",
                         retryable=True)


class Bulkhead:
    """Caps the calls in flight: per tenant, and across tenants through a shared parent.

    A call that finds every slot taken waits for one (at most `wait` seconds) only while slots are
    changing hands, one taken or given back in the last `stall` seconds; when Osigu is slow they stop
    turning and calls are refused at once with a retryable BFF-BUSY. So a slow or rate-limited Osigu
    holds `limit` request threads at most, and a busy but healthy one refuses nobody.
    """

    def __init__(self, limit, wait=0.5, stall=0.25, parent=None):
        self.wait, self.stall, self.parent = wait, stall, parent
        self._slots = threading.BoundedSemaphore(limit)
        self._turned_at = time.monotonic()  # when a slot was last taken or given back

    def __enter__(self):
        if not self._slots.acquire(blocking=False):
            stalled = time.monotonic() - self._turned_at > self.stall
            if stalled or not self._slots.acquire(timeout=self.wait):
                raise busy()
        self._turned_at = time.monotonic()
        if self.parent is not None:
            try:
                self.parent.__enter__()
            except UpstreamError:
                self._slots.release()
                raise
        return self

    def __exit__(self, *_):
        if self.parent is not None:
            self.parent.__exit__()
        self._turned_at = time.monotonic()
        self._slots.release()


def connect_retries():
    """Retry a connection that could not be made (nothing was sent, so safe for any method), and nothing else.

    Status retries are the client's own, so their waits can be budgeted; a read failure may mean the
    request took effect, so it is never replayed blindly.
    """
    return Retry(total=2, connect=2, read=0, status=0, other=0, backoff_factor=0.1, raise_on_status=False)


def read_environment_once(session, base_url, pool_size=10):
    """Give a requests session the proxy and CA settings of the environment now, and pooled connections.

    With trust_env on, requests re-reads the environment and ~/.netrc on every call; the BFF talks to
    one base URL, so HTTPS_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE are resolved once, at start-up.
    """
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(base_url)
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    adapter = HTTPAdapter(max_retries=connect_retries(), pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def seconds_to_wait(retry_after):
    """Read a Retry-After header (seconds or an HTTP date) as seconds; None when absent or unreadable."""
    if not retry_after:
        return None
    if retry_after.strip().isdigit():
        return float(retry_after)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class UpstreamClient:
    """Calls Osigu with one tenant's credentials."""

    def __init__(self, base_url, client_id, client_secret, timeout=DEFAULT_TIMEOUT, retry_budget=RETRY_BUDGET,
                 bulkhead=None, shared_tokens=None):
        self.base_url = base_url.rstrip("/")
        self.timeout, self.retry_budget, self.bulkhead = timeout, retry_budget, bulkhead
        self._oauth = read_environment_once(
            OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic"), self.base_url)
        self._http = read_environment_once(requests.Session(), self.base_url, pool_size=32)
        self.shared_tokens = shared_tokens
        self._shared_key = f"bff:osigu-token:{self.base_url}:{client_id}"
        self._token_lock = threading.Lock()
        self._token = None
        self._token_refresh_at = 0.0
        self.token_fetches = 0  # observable, for tests and the benchmark

    @property
    def provider_slug(self):
        """The provider these credentials act for, as the token endpoint reported it."""
        return self._token and self._token.get("provider_slug")

    @property
    def granted_scopes(self):
        """The scopes these credentials hold, as the token endpoint reported them (empty when it did not say)."""
        return frozenset(str((self._token or {}).get("scope") or "").split())

    def access_token(self):
        """Return a cached token, fetching a new one (once, whatever the concurrency) when due."""
        token = self._token
        if token and time.monotonic() < self._token_refresh_at:
            return token["access_token"]
        with self._token_lock:
            if self._token is token or time.monotonic() >= self._token_refresh_at:
                self._renew_token()
            return self._token["access_token"]

    def _renew_token(self):
        """Take the token the replicas share, or fetch one (this process's own without a shared cache)."""
        if self.shared_tokens is None:
            token, refresh_in = self._fetch_token()
        else:
            token, refresh_in = self.shared_tokens.fetch_once(self._shared_key, self._fetch_token)
        self._token = dict(token)
        self._token_refresh_at = time.monotonic() + refresh_in

    def _fetch_token(self):
        """Ask Osigu for a token; return it and the seconds until it is due for refresh."""
        try:
            token = self._oauth.fetch_token(f"{self.base_url}/v1/oauth/token", grant_type="client_credentials",
                                            timeout=self.timeout)
        except requests.RequestException as error:
            raise UpstreamError(502, "BFF-502", "Osigu's token endpoint could not be reached.", retryable=True) \
                from error
        except OAuthError as error:
            log.error("token request refused: %s", error.error)
            raise UpstreamError(502, "BFF-OAUTH", "Osigu refused the BFF's credentials; check OSIGU_CLIENT_ID and "
                                                  "OSIGU_CLIENT_SECRET for this environment.") from error
        lifetime = token.get("expires_in") or FALLBACK_TOKEN_LIFETIME
        self.token_fetches += 1
        return dict(token), lifetime * TOKEN_REFRESH_FRACTION

    def _forget_token(self, access_token):
        """Drop a token Osigu refused, unless another thread already replaced it."""
        with self._token_lock:
            if self._token and self._token["access_token"] == access_token:
                self._token_refresh_at = 0.0
                if self.shared_tokens is not None:
                    self.shared_tokens.forget(self._shared_key, access_token)

    def request(self, method, path, *, params=None, json=None, data=None, headers=None, idempotency_key=None,
                stream=False, timeout=None, retry_budget=None):
        """Send one request to Osigu and return the response; raise UpstreamError unless it is 2xx.

        A state-changing request always carries an Idempotency-Key (pass one that is stable across
        retries of the same user action); a 401 refetches the token and retries once; a key still being
        processed upstream is waited for (briefly) and sent again, which replays the first response.
        An idempotent request is retried on 429/502/503/504 while the waits fit in the retry budget.
        Without stream, a 2xx body must be the JSON Osigu sends: anything else is a retryable error.
        """
        method = method.upper()
        headers = dict(headers or {})
        if method in STATE_CHANGING_METHODS:
            headers.setdefault("Idempotency-Key", idempotency_key or str(uuid.uuid4()))
        send = (method, path, params, json, data, headers, stream, timeout or self.timeout)
        budget = self.retry_budget if retry_budget is None else retry_budget
        if self.bulkhead is None:
            return self._send_retrying(send, budget)
        with self.bulkhead:
            return self._send_retrying(send, budget)

    def _send_retrying(self, send, budget):
        """Send, retrying what is safe to retry while the waits fit in budget seconds."""
        method, in_progress_waits, retries, waited = send[0], _in_progress_waits(send[-1]), 0, 0.0
        while True:
            try:
                return self._send(*send)
            except UpstreamError as error:
                if (error.status, error.error_code) == IN_PROGRESS:
                    if one_shot(send[4]):
                        raise cannot_resend() from error
                    wait = next(in_progress_waits, None)  # the first request with this key is still running
                elif method in IDEMPOTENT_METHODS and error.retryable and retries < MAX_RETRIES \
                        and not error.error_code.startswith("BFF-"):  # Osigu's answer, not our timeout
                    retries += 1
                    after = seconds_to_wait(error.retry_after)
                    wait = after if after is not None else BACKOFF_SECONDS * 2 ** (retries - 1)
                    if waited + wait > budget:
                        wait = None  # a long Retry-After is the caller's to honour, not this thread's
                    else:
                        waited += wait
                else:
                    wait = None
                if wait is None:
                    raise
                time.sleep(wait)

    def _send(self, method, path, params, json, data, headers, stream, timeout):
        """Send once (refetching the token and resending once on a 401); raise UpstreamError unless 2xx."""
        for attempt in (1, 2):
            token = self.access_token()
            headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._http.request(method, self.base_url + path, params=params, json=json, data=data,
                                              headers=headers, timeout=timeout, stream=stream)
            except requests.Timeout as error:
                raise UpstreamError(504, "BFF-504", "Osigu did not answer in time.", retryable=True) from error
            except requests.RequestException as error:
                raise UpstreamError(502, "BFF-502", "Osigu could not be reached.", retryable=True) from error
            if response.status_code == 401 and attempt == 1:
                response.close()
                self._forget_token(token)
                if one_shot(data):
                    raise cannot_resend()
                continue
            break
        if not response.ok:
            raise error_from(response)
        if not stream:
            response.parsed = parsed_body(response)
        return response

    def get_json(self, path, **params):
        """GET a JSON resource."""
        return self.request("GET", path, params=params or None).parsed


def one_shot(data):
    """Whether a request body is read as it is sent (a stream): sending it again would send what is left, nothing."""
    return data is not None and not isinstance(data, bytes | str | dict | list | tuple)


def cannot_resend():
    """The error for a streamed body Osigu needs sent again: the caller's user sends it again, whole."""
    return UpstreamError(503, "BFF-RESEND", "Osigu needs the upload sent again; it was passed on as it arrived.",
                         retryable=True)


def parsed_body(response):
    """The JSON of a 2xx answer (None when it has no body); raise a retryable error for anything else.

    Osigu answers every call with a JSON object (or nothing): an HTML page, an empty object or cut-off
    JSON comes from something between us, and reading on would be a 500.
    """
    if not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        kind = "an HTML page" if "html" in response.headers.get("Content-Type", "") else "not JSON"
        raise malformed(kind) from None
    if not body or not isinstance(body, dict | list):
        raise malformed("no content")
    return body


def passthrough(response, chunk_size):
    """The body of a streamed 2xx answer to pass on: JSON is read and checked first, anything else streams.

    Checking JSON needs it whole, but it is small; PDFs and other files stream through untouched.
    """
    content_type = response.headers.get("Content-Type", "")
    if not content_type.startswith(JSON_TYPES) and "html" not in content_type:
        return response.iter_content(chunk_size)
    try:
        parsed_body(response)
    except requests.RequestException as error:
        raise UpstreamError(502, "BFF-502", "Osigu's answer was cut off.", retryable=True) from error
    finally:
        response.close()
    return [response.content]


def error_from(response):
    """Turn an error response into UpstreamError, keeping Osigu's error code and message."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    return UpstreamError(
        status,
        body.get("error_code") or f"HTTP-{status}",
        body.get("message") or response.reason or "Osigu returned an error.",
        body.get("details"),
        retryable=status in RETRY_STATUSES,
        retry_after=response.headers.get("Retry-After"),
    )
