"""Osigu tokens shared by every BFF replica through Redis (BFF_REDIS_URL): one cache, one fetch at a time.

Without it each process caches and fetches its own token; with several replicas behind a load balancer
that is one token request per process at every expiry, and Osigu rate-limits its token endpoint.
A replica that finds no fresh token takes a Redis lock, fetches, stores the token until it is due for
refresh and releases; the others wait on the lock and read what it stored. When Redis cannot be
reached the replica fetches on its own, as without Redis: a shared cache must not become an outage.
"""

import json
import logging
import time

import redis

log = logging.getLogger(__name__)

# Deletes a refused token only if it is still the stored one: another replica may have replaced it.
FORGET_IF_UNCHANGED = """
local stored = redis.call('GET', KEYS[1])
if stored and cjson.decode(stored)['token']['access_token'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SharedTokens:
    """A token cache in Redis that every replica reads, refreshed by one replica at a time."""

    def __init__(self, url, lock_seconds):
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        # Longer than a token request may take, so the lock outlives the fetch it guards.
        self.lock_seconds = lock_seconds
        self._forget = self.redis.register_script(FORGET_IF_UNCHANGED)

    def fetch_once(self, key, fetch):
        """(token, seconds until refresh): the stored token if fresh, else one fetched by one replica for all.

        fetch() returns the same pair; it is called at most once per call of this method.
        """
        fetched = []

        def fetch_and_remember():
            fetched.append(fetch())
            return fetched[0]

        try:
            return self._fetch_once(key, fetch_and_remember)
        except redis.RedisError as error:
            log.warning("Redis unavailable for the token cache, fetching in this process: %s", error)
            return fetched[0] if fetched else fetch()

    def _fetch_once(self, key, fetch):
        found = self._fresh(key)
        if found:
            return found
        with self.redis.lock(f"{key}:lock", timeout=self.lock_seconds, blocking_timeout=self.lock_seconds):
            found = self._fresh(key)  # the replica that held the lock before us stored it
            if found:
                return found
            token, refresh_in = fetch()
            entry = {"token": token, "refresh_at": time.time() + refresh_in}
            self.redis.set(key, json.dumps(entry), px=max(1, int(refresh_in * 1000)))
            return token, refresh_in

    def _fresh(self, key):
        stored = self.redis.get(key)
        if stored is None:
            return None
        entry = json.loads(stored)
        remaining = entry["refresh_at"] - time.time()
        return (entry["token"], remaining) if remaining > 0 else None

    def forget(self, key, access_token):
        """Drop a token Osigu refused, unless another replica already replaced it."""
        try:
            self._forget(keys=[key], args=[access_token])
        except redis.RedisError as error:
            log.warning("Redis unavailable to drop a refused token: %s", error)


def shared_tokens(app):
    """The app's shared token cache, or None when BFF_REDIS_URL is not set (each process caches its own)."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    if "bff.shared_tokens" not in app.extensions:
        lock_seconds = sum(app.config["UPSTREAM_TIMEOUT"]) + 5
        app.extensions["bff.shared_tokens"] = SharedTokens(url, lock_seconds)
    return app.extensions["bff.shared_tokens"]
