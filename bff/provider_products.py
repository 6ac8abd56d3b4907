"""The provider's registered products, cached per tenant: Osigu allows 50 registry calls a minute per client.

Every session of a tenant shares one list per product type, fetched whole and searched in the BFF,
so prescriptions cost no registry call in the common case. The list is refetched when it is older
than REFRESH_SECONDS, when a product asked for is missing (at most every MISS_REFRESH_SECONDS, so
unknown codes cannot burn the tenant's quota), and after a registration changes through the proxy.
Both intervals are per page of the list, so a large registry costs no more calls a minute than a
small one. While Osigu refuses a refetch (429, 5xx), the list it last gave is used.
"""

import math
import threading
import time
import unicodedata

from flask import current_app

from . import host_apps
from .upstream import UpstreamError

PATH = "/arc/v1/providers/products"
REFRESH_SECONDS = 60
MISS_REFRESH_SECONDS = 10
PAGE_SIZE = 100  # Osigu's largest page
SEARCHED_FIELDS = ("product_code", "name", "inn", "brand")  # what Osigu's `query` matches


class RegisteredProducts:
    """One tenant's registered products of one type, named in one language."""

    def __init__(self, client, product_type, language):
        self.client, self.product_type, self.language = client, product_type, language
        self._lock = threading.Lock()
        self._items, self._fetched_at, self._pages = None, -math.inf, 1
        self.fetches = 0  # observable, for tests and the benchmark

    def search(self, query, limit):
        """The products whose code, name, INN or brand contain every word of query (accents aside), in Osigu's order."""
        words = _folded(query).split()

        def matches(item):
            text = _folded(" ".join(str(item.get(name) or "") for name in SEARCHED_FIELDS))
            return all(word in text for word in words)

        found = [item for item in self._current(REFRESH_SECONDS) if matches(item)]
        if not found:
            found = [item for item in self._current(MISS_REFRESH_SECONDS) if matches(item)]
        return found[:limit]

    def find(self, code):
        """The registered product with this code, or None."""
        for stale_after in (REFRESH_SECONDS, MISS_REFRESH_SECONDS):
            found = next((item for item in self._current(stale_after) if item["product_code"] == code), None)
            if found is not None:
                return found
        return None

    def forget(self):
        """Refetch on next use (the stale list stays as a fallback while Osigu is busy)."""
        self._fetched_at = -math.inf

    def _current(self, stale_after):
        """The list, refetched (once, whatever the concurrency) when older than stale_after seconds a page."""
        fetched_at = self._fetched_at
        if time.monotonic() - fetched_at < stale_after * self._pages:
            return self._items
        with self._lock:
            if self._fetched_at != fetched_at and time.monotonic() - self._fetched_at < stale_after * self._pages:
                return self._items  # another thread refetched while this one waited
            try:
                self._items = self._fetch()
            except UpstreamError as error:
                if self._items is None or not error.retryable:
                    raise
                return self._items
            self._fetched_at = time.monotonic()
            return self._items

    def _fetch(self):
        items, page, pages = [], 1, 1
        while page <= pages:
            body = self.client.request("GET", PATH, params={"product_type": self.product_type, "page": page,
                                                            "page_size": PAGE_SIZE},
                                       headers={"Accept-Language": self.language}).json()
            try:
                items += body["data"]
                pages = body["pagination"]["total_pages"]
            except (KeyError, TypeError):
                raise UpstreamError(502, "BFF-UPSTREAM-BODY", "Osigu's product list could not be read; try again.",
                                    retryable=True) from None
            page += 1
        self.fetches, self._pages = self.fetches + 1, max(pages, 1)
        return items


def _folded(text):
    """Lower case without accents, so "acido" finds "ácido"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def registered_products(host_app, product_type, language="en"):
    """The cached registered products of one type for a host app's tenant, named in language."""
    client = host_apps.upstream_for(host_app)
    lists = current_app.extensions.setdefault("bff.provider_products", {})
    key = (client, product_type, language)
    if key not in lists:
        lists.setdefault(key, RegisteredProducts(client, product_type, language))
    return lists[key]


def forget_after(host_app, method, path):
    """Forget a tenant's cached lists after a call through the proxy that may have changed its registrations."""
    if method == "GET" or not (path + "/").startswith(PATH.lstrip("/") + "/"):
        return
    client = host_apps.upstream_for(host_app)
    for (owner, *_), products in current_app.extensions.get("bff.provider_products", {}).items():
        if owner is client:
            products.forget()
