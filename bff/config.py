"""Settings from the environment, checked at start-up: a bad setting is a clear message, not a traceback."""

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = {
    "local": "http://127.0.0.1:8070",
    "sandbox": "https://sandbox.osigu.com",
    "production": "https://api.osigu.com",
}
PRESCRIPTION_VERSIONS = ("v1", "v1.1", "v2")  # v1.1: markets that mandate consent; v2: Spain's repository
# The simulator's sandbox-only signing key, certified for demo-hospital; used only when OSIGU_ENV=local.
DEMO_SIGNING_KEY = Path(__file__).resolve().parents[1] / "simulator" / "seed" / "demo_signing_key.pem"
DEMO_HOST_PORT = 8090
DEMO_CALLBACK_SECRET = "whsec_bG9jYWwtZGVtby1jYWxsYmFjay1zZWNyZXQtMDE="
# The example host app's API key per prescription market (examples/his picks one by the market chosen).
DEMO_API_KEYS = {"v1": "demo-his-api-key", "v1.1": "demo-his-eu-api-key", "v2": "demo-his-es-api-key"}


def demo_host_apps(port=DEMO_HOST_PORT, extra_origins=()):
    """The demo host apps: one per prescription market, served by the example host app on port (and extra_origins)."""
    shared = {"origins": [f"http://127.0.0.1:{port}", f"http://localhost:{port}", *extra_origins],
              "callback_url": f"http://127.0.0.1:{port}/osigu/callbacks", "callback_secret": DEMO_CALLBACK_SECRET}
    return [
        {"id": "demo-his", "api_key": DEMO_API_KEYS["v1"], **shared},
        {"id": "demo-his-eu", "api_key": DEMO_API_KEYS["v1.1"], "prescription_version": "v1.1", **shared},
        {"id": "demo-his-es", "api_key": DEMO_API_KEYS["v2"], "prescription_version": "v2", **shared},
    ]


# Zero-configuration demo values, used only when OSIGU_ENV=local. They match the simulator's seed.
LOCAL_DEFAULTS = {
    "OSIGU_CLIENT_ID": "demo-hospital",
    "OSIGU_CLIENT_SECRET": "demo-hospital-secret",
    "OSIGU_WEBHOOK_SECRET": "whsec_bG9jYWwtZGVtby13ZWJob29rLXNlY3JldC0wMQ==",
    "OSIGU_NATIONAL_REPOSITORY_ID": "ES-RNR-0000001",
    "OSIGU_SIGNING_KEY_FILE": str(DEMO_SIGNING_KEY),
    "BFF_HOST_APPS": json.dumps(demo_host_apps()),
}


class ConfigError(ValueError):
    """A setting is missing or contradicts another; the message says which and what to do."""


@dataclass(frozen=True)
class HostApp:
    """A system that embeds the widgets: its key, the origins its pages run on, where outcomes go."""

    id: str
    api_key: str = field(repr=False)
    origins: tuple[str, ...]
    callback_url: str | None = None
    callback_secret: str | None = field(default=None, repr=False)
    osigu_client_id: str | None = None
    osigu_client_secret: str | None = field(default=None, repr=False)
    prescription_version: str = "v1"
    national_repository_id: str | None = None
    signing_key_file: str | None = None


def origin_ok(origin):
    return isinstance(origin, str) and origin.startswith(("https://", "http://")) and origin.count("/") == 2


def parse_host_apps(raw):
    """Read BFF_HOST_APPS (a JSON list) into HostApps, refusing anything ambiguous."""
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"BFF_HOST_APPS is not valid JSON: {error}") from None
    if not isinstance(items, list) or not items:
        raise ConfigError("BFF_HOST_APPS must be a non-empty JSON list of host apps.")
    apps, keys = [], set()
    for position, item in enumerate(items):
        where = f"BFF_HOST_APPS[{position}]"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k] for k in ("id", "api_key")):
            raise ConfigError(f"{where} needs an 'id' and an 'api_key'.")
        unknown = set(item) - {"id", "api_key", "origins", "callback_url", "callback_secret",
                               "osigu_client_id", "osigu_client_secret", "prescription_version",
                               "national_repository_id", "signing_key_file"}
        if unknown:
            raise ConfigError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
        origins = item.get("origins")
        if not isinstance(origins, list) or not origins or not all(origin_ok(o) for o in origins):
            raise ConfigError(f"{where}.origins must list exact origins such as 'https://his.example.com' "
                              "(scheme and host, no path).")
        if len(item["api_key"]) < 16:
            raise ConfigError(f"{where}.api_key is too short; use at least 16 random characters.")
        if item["api_key"] in keys:
            raise ConfigError(f"{where}.api_key is used by another host app.")
        keys.add(item["api_key"])
        if bool(item.get("callback_url")) != bool(item.get("callback_secret")):
            raise ConfigError(f"{where}: callback_url and callback_secret (whsec_...) go together.")
        if bool(item.get("osigu_client_id")) != bool(item.get("osigu_client_secret")):
            raise ConfigError(f"{where}: osigu_client_id and osigu_client_secret go together.")
        if item.get("prescription_version", "v1") not in PRESCRIPTION_VERSIONS:
            raise ConfigError(f"{where}.prescription_version must be one of {', '.join(PRESCRIPTION_VERSIONS)}.")
        apps.append(HostApp(
            id=item["id"], api_key=item["api_key"], origins=tuple(origins),
            callback_url=item.get("callback_url"), callback_secret=item.get("callback_secret"),
            osigu_client_id=item.get("osigu_client_id"), osigu_client_secret=item.get("osigu_client_secret"),
            prescription_version=item.get("prescription_version", "v1"),
            national_repository_id=item.get("national_repository_id"), signing_key_file=item.get("signing_key_file"),
        ))
    if len({app.id for app in apps}) != len(apps):
        raise ConfigError("BFF_HOST_APPS has two host apps with the same id.")
    return tuple(apps)


def _seconds(environ, name, default):
    raw = environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 60 <= int(raw) <= 24 * 3600:
        raise ConfigError(f"{name} must be a whole number of seconds between 60 and 86400; got {raw!r}.")
    return int(raw)


def _trusted_proxies(environ):
    """Parse BFF_TRUSTED_PROXIES (comma-separated addresses or networks) and BFF_PROXY_HOPS (1 to 5)."""
    networks = []
    for item in filter(None, (part.strip() for part in environ.get("BFF_TRUSTED_PROXIES", "").split(","))):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise ConfigError(f"BFF_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                              "(e.g. 10.0.0.5 or 10.0.0.0/24).") from None
    hops = environ.get("BFF_PROXY_HOPS") or "1"
    if not hops.isdigit() or not 1 <= int(hops) <= 5:
        raise ConfigError(f"BFF_PROXY_HOPS must be the number of proxies in front of the BFF, 1 to 5; got {hops!r}.")
    if environ.get("BFF_PROXY_HOPS") and not networks:
        raise ConfigError("BFF_PROXY_HOPS needs BFF_TRUSTED_PROXIES: name the proxies whose X-Forwarded-* to honour.")
    return tuple(networks), int(hops)


def from_environment(environ=None):
    """Build the Flask config mapping from environment variables, applying local defaults."""
    environ = dict(os.environ if environ is None else environ)
    env = environ.get("OSIGU_ENV", "local")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"OSIGU_ENV must be one of {', '.join(ENVIRONMENTS)}; got {env!r}.")
    if env == "local":
        environ = LOCAL_DEFAULTS | {k: v for k, v in environ.items() if v}
    elif not environ.get("BFF_SECRET_KEY"):
        raise ConfigError(f"BFF_SECRET_KEY is required when OSIGU_ENV={env}: it signs widget sessions "
                          "(use 32+ random bytes, the same on every worker).")
    config = {
        "OSIGU_ENV": env,
        "OSIGU_BASE_URL": (environ.get("OSIGU_BASE_URL") or ENVIRONMENTS[env]).rstrip("/"),
        "OSIGU_CLIENT_ID": environ.get("OSIGU_CLIENT_ID"),
        "OSIGU_CLIENT_SECRET": environ.get("OSIGU_CLIENT_SECRET"),
        "OSIGU_WEBHOOK_SECRET": environ.get("OSIGU_WEBHOOK_SECRET"),
        # Local only: a per-process key, so sessions end when the demo restarts.
        "SECRET_KEY": environ.get("BFF_SECRET_KEY") or secrets.token_hex(32),
        "HOST_APPS": parse_host_apps(environ.get("BFF_HOST_APPS") or "null"),
        # Idle expiry: every request moves it on, never past the absolute maximum counted from creation.
        "SESSION_TTL_SECONDS": _seconds(environ, "BFF_SESSION_TTL_SECONDS", 30 * 60),
        "SESSION_MAX_SECONDS": _seconds(environ, "BFF_SESSION_MAX_SECONDS", 12 * 3600),
        # How long after it expired a session's token still proves that a renewed session continues its work.
        "SESSION_RENEWAL_GRACE_SECONDS": _seconds(environ, "BFF_SESSION_RENEWAL_GRACE_SECONDS", 2 * 3600),
        "OSIGU_NATIONAL_REPOSITORY_ID": environ.get("OSIGU_NATIONAL_REPOSITORY_ID"),
        "OSIGU_SIGNING_KEY_FILE": environ.get("OSIGU_SIGNING_KEY_FILE"),
    }
    config["TRUSTED_PROXIES"], config["PROXY_HOPS"] = _trusted_proxies(environ)
    if environ.get("BFF_DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = environ["BFF_DATABASE_URL"]
    check(config)
    return config


def check(config):
    """Refuse contradictory settings that would only fail later, at the first request."""
    if bool(config["OSIGU_CLIENT_ID"]) != bool(config["OSIGU_CLIENT_SECRET"]):
        raise ConfigError("OSIGU_CLIENT_ID and OSIGU_CLIENT_SECRET go together.")
    without_credentials = [app.id for app in config["HOST_APPS"]
                           if not app.osigu_client_id and not config["OSIGU_CLIENT_ID"]]
    if without_credentials:
        raise ConfigError(f"Host apps {', '.join(without_credentials)} have no Osigu credentials: set "
                          "OSIGU_CLIENT_ID/OSIGU_CLIENT_SECRET, or give them osigu_client_id/osigu_client_secret.")
    for app in config["HOST_APPS"]:
        if app.prescription_version == "v2":
            _check_v2_certification(app, config)
    if config["SESSION_MAX_SECONDS"] < config["SESSION_TTL_SECONDS"]:
        raise ConfigError("BFF_SESSION_MAX_SECONDS (the absolute limit) must be at least BFF_SESSION_TTL_SECONDS "
                          "(the idle limit).")
    if config["OSIGU_ENV"] == "production" and config["OSIGU_BASE_URL"].startswith("http://"):
        raise ConfigError("OSIGU_BASE_URL must be https in production.")


def _check_v2_certification(app, config):
    """A v2 (Spain) host app needs its provider's repository id and a readable P-256 signing key."""
    repository_id = app.national_repository_id or config["OSIGU_NATIONAL_REPOSITORY_ID"]
    key_file = app.signing_key_file or config["OSIGU_SIGNING_KEY_FILE"]
    if not repository_id or not key_file:
        raise ConfigError(f"Host app {app.id} prescribes v2 (Spain): set OSIGU_NATIONAL_REPOSITORY_ID and "
                          "OSIGU_SIGNING_KEY_FILE, or its national_repository_id and signing_key_file.")
    if not os.access(key_file, os.R_OK):
        raise ConfigError(f"Host app {app.id}: the signing key file {key_file} cannot be read.")
