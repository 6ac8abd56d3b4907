"""The one module that talks to Osigu: cached OAuth tokens, timeouts, retries, idempotency keys.

One UpstreamClient per set of Osigu credentials (tenant). Tokens come from Authlib's requests
client with the client-credentials grant; the client caches them for 5/6 of their lifetime and
fetches them single-flight, because Authlib alone neither locks nor handles a 401.
"""

import logging
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
# waiting and sending it again gets the first request's response.
IN_PROGRESS = (409, "000-409")
IN_PROGRESS_WAITS = (0.1, 0.2, 0.4, 0.8, 1.6)
# Used when a token response has no expires_in: Authlib would otherwise never refresh it.
FALLBACK_TOKEN_LIFETIME = 300
TOKEN_REFRESH_FRACTION = 5 / 6


def path(template, *segments):
    """Fill template's {} with segments, each quoted whole: an id from input can never add a segment or a query."""
    return template.format(*(quote(str(segment), safe="") for segment in segments))


class UpstreamError(Exception):
    """Osigu answered with an error, or could not be reached; carries the one error shape."""

    def __init__(self, status, error_code, message, details=None, retryable=False, retry_after=None):
        super().__init__(f"{status} {error_code}: {message}")
        self.status, self.error_code, self.message = status, error_code, message
        self.details, self.retryable, self.retry_after = details, retryable, retry_after


def retry_policy(max_retry_after):
    """Retry idempotent requests on 429/502/503/504 and connection failures, honouring a capped Retry-After."""
    return Retry(
        total=3,
        connect=2,  # nothing was sent yet, so safe for any method
        read=0,  # a read failure may mean the request took effect: never replay it blindly
        status=3,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.2,
        backoff_max=2,
        respect_retry_after_header=True,
        retry_after_max=max_retry_after,
        raise_on_status=False,
    )


class UpstreamClient:
    """Calls Osigu with one tenant's credentials."""

    def __init__(self, base_url, client_id, client_secret, timeout=DEFAULT_TIMEOUT, max_retry_after=10):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._oauth = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic")
        self._oauth.mount("https://", HTTPAdapter(max_retries=retry_policy(max_retry_after)))
        self._oauth.mount("http://", HTTPAdapter(max_retries=retry_policy(max_retry_after)))
        self._http = requests.Session()
        adapter = HTTPAdapter(max_retries=retry_policy(max_retry_after), pool_maxsize=32)
        self._http.mount("https://", adapter)
        self._http.mount("http://", adapter)
        self._token_lock = threading.Lock()
        self._token = None
        self._token_refresh_at = 0.0
        self.token_fetches = 0  # observable, for tests and the benchmark

    @property
    def provider_slug(self):
        """The provider these credentials act for, as the token endpoint reported it."""
        return self._token and self._token.get("provider_slug")

    def access_token(self):
        """Return a cached token, fetching a new one (once, whatever the concurrency) when due."""
        token = self._token
        if token and time.monotonic() < self._token_refresh_at:
            return token["access_token"]
        with self._token_lock:
            if self._token is token or time.monotonic() >= self._token_refresh_at:
                self._fetch_token()
            return self._token["access_token"]

    def _fetch_token(self):
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
        self._token = dict(token)
        self._token_refresh_at = time.monotonic() + lifetime * TOKEN_REFRESH_FRACTION
        self.token_fetches += 1

    def _forget_token(self, access_token):
        """Drop a token Osigu refused, unless another thread already replaced it."""
        with self._token_lock:
            if self._token and self._token["access_token"] == access_token:
                self._token_refresh_at = 0.0

    def request(self, method, path, *, params=None, json=None, data=None, headers=None, idempotency_key=None,
                stream=False):
        """Send one request to Osigu and return the response; raise UpstreamError unless it is 2xx.

        A state-changing request always carries an Idempotency-Key (pass one that is stable across
        retries of the same user action); a 401 refetches the token and retries once; a key still being
        processed upstream is waited for (briefly) and sent again, which replays the first response.
        """
        method = method.upper()
        headers = dict(headers or {})
        if method in STATE_CHANGING_METHODS:
            headers.setdefault("Idempotency-Key", idempotency_key or str(uuid.uuid4()))
        for wait in IN_PROGRESS_WAITS:
            try:
                return self._send(method, path, params, json, data, headers, stream)
            except UpstreamError as error:
                if (error.status, error.error_code) != IN_PROGRESS:
                    raise
                time.sleep(wait)  # the first request with this key is still running upstream
        return self._send(method, path, params, json, data, headers, stream)

    def _send(self, method, path, params, json, data, headers, stream):
        """Send once (refetching the token and resending once on a 401); raise UpstreamError unless 2xx."""
        for attempt in (1, 2):
            token = self.access_token()
            headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._http.request(method, self.base_url + path, params=params, json=json, data=data,
                                              headers=headers, timeout=self.timeout, stream=stream)
            except requests.Timeout as error:
                raise UpstreamError(504, "BFF-504", "Osigu did not answer in time.", retryable=True) from error
            except requests.RequestException as error:
                raise UpstreamError(502, "BFF-502", "Osigu could not be reached.", retryable=True) from error
            if response.status_code == 401 and attempt == 1:
                response.close()
                self._forget_token(token)
                continue
            break
        if not response.ok:
            raise error_from(response)
        return response

    def get_json(self, path, **params):
        """GET a JSON resource."""
        return self.request("GET", path, params=params or None).json()


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
