"""Settings from the environment, checked at start-up: a bad setting is a clear message, not a traceback."""

import base64
import binascii
import ipaddress
import json
import os
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from joserfc import jwk
from joserfc.errors import JoseError

ENVIRONMENTS = {
    "local": "http://127.0.0.1:8070",
    "sandbox": "https://sandbox.osigu.com",
    "production": "https://api.osigu.com",
}
PRESCRIPTION_VERSIONS = ("v1", "v1.1", "v2")  # v1.1: markets that mandate consent; v2: Spain's repository
# The simulator's sandbox-only signing key, certified for demo-hospital; used only when OSIGU_ENV=local.
DEMO_SIGNING_KEY = Path(__file__).resolve().parents[1] / "simulator" / "seed" / "demo_signing_key.pem"
DEMO_HOST_PORT = 8090
DEMO_EHR_PORT = 8091
DEMO_EHR_IDENTIFIER_SYSTEM = "https://ehr.example.org/fhir/sid/national-id"  # examples/ehr's Patient identifiers
DEMO_EHR_CDS_ISSUER = "https://ehr.example.org/cds-client"  # the iss of examples/ehr's CDS Hooks JWTs
# The private key demo-ehr signs its SMART client assertions with (private_key_jwt); public like every demo value.
DEMO_EHR_CLIENT_KEY = {
    "kty": "EC", "crv": "P-384", "kid": "demo-ehr-client-1",
    "x": "5jux98KhgitNF3bfnv5bgH0kNk24TN674dfC7DXe_PYsDA65pbi3Ac2LC2ZRV-QU",
    "y": "8p4pR_rUqYmLztOHuK0l4J0raMgeT1gVjZfobCSR7aoAAeOd2wojEDXwMGdPj7TM",
    "d": "vkEgSI5Wz6WQCccyS1RXNnWRiOwPEydLEtD3YyyJBhBS5micAfiyqTCk7krcDi8G",
}
DEMO_CALLBACK_SECRET = "whsec_bG9jYWwtZGVtby1jYWxsYmFjay1zZWNyZXQtMDE="
# The example host app's API key per prescription market (examples/his picks one by the market chosen).
DEMO_API_KEYS = {"v1": "demo-his-api-key", "v1.1": "demo-his-eu-api-key", "v2": "demo-his-es-api-key"}
MIN_SECRET_KEY_CHARS = 32
OUTCOME_FORMATS = ("osigu", "fhir")
MIN_WEBHOOK_SECRET_BYTES = 24  # Standard Webhooks: secrets of 24 to 64 random bytes
# SMART's asymmetric client authentication: the one algorithm per key type it allows (EC on P-384 only).
SMART_ASSERTION_ALGS = {"RSA": "RS384", "EC": "ES384"}
MIN_RSA_BITS = 2048


def demo_host_apps(port=DEMO_HOST_PORT, extra_origins=(), ehr_port=DEMO_EHR_PORT):
    """The demo host apps: one per prescription market, served by the example host app on port (and extra_origins),
    and the example EHR on ehr_port, which launches the widgets with SMART on FHIR."""
    shared = {"origins": [f"http://127.0.0.1:{port}", f"http://localhost:{port}", *extra_origins],
              "callback_url": f"http://127.0.0.1:{port}/osigu/callbacks", "callback_secret": DEMO_CALLBACK_SECRET}
    ehr_origins = [f"http://127.0.0.1:{ehr_port}", f"http://localhost:{ehr_port}"]
    return [
        # demo-his is the provider's own back office: provider-wide proxy calls (the README's curls) need admin.
        {"id": "demo-his", "api_key": DEMO_API_KEYS["v1"], "admin": True, **shared},
        {"id": "demo-his-eu", "api_key": DEMO_API_KEYS["v1.1"], "prescription_version": "v1.1", **shared},
        {"id": "demo-his-es", "api_key": DEMO_API_KEYS["v2"], "prescription_version": "v2", **shared},
        {"id": "demo-ehr", "api_key": "demo-ehr-api-key", "origins": ehr_origins, "outcome_format": "fhir",
         "smart": {"issuers": [f"{origin}/fhir" for origin in ehr_origins], "client_id": "osigu-widgets",
                   "identifier_system": DEMO_EHR_IDENTIFIER_SYSTEM, "jwks_private_key": DEMO_EHR_CLIENT_KEY},
         "cds": {"issuers": {DEMO_EHR_CDS_ISSUER: f"http://127.0.0.1:{ehr_port}/jwks"}}},
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
    admin: bool = False  # may make provider-wide calls through the proxy and reach every object
    outcome_format: str = "osigu"  # "fhir": success data and callbacks carry FHIR R4 Bundles (bff/fhir_outcomes.py)
    cds_issuers: tuple[tuple[str, str], ...] = ()  # (the EHR's JWT iss, its JWKS URL) for CDS Hooks calls
    smart: "SmartClient | None" = None  # how the BFF signs in to the EHRs that launch the widgets (bff/smart.py)


@dataclass(frozen=True)
class SmartClient:
    """A host app's SMART on FHIR registration: the EHRs (FHIR base URLs) that may launch the widgets."""

    issuers: tuple[str, ...]
    client_id: str
    identifier_system: str  # the Patient identifier system whose value is the document Osigu knows the patient by
    client_secret: str | None = field(default=None, repr=False)
    # The private JWK (JSON text, with its kid and alg) that signs the client assertions (private_key_jwt).
    jwks_private_key: str | None = field(default=None, repr=False)


def origin_ok(origin):
    return isinstance(origin, str) and origin.startswith(("https://", "http://")) and origin.count("/") == 2


def is_public_address(address):
    """Whether an IP address is on the public internet (not loopback, private, link-local, reserved or multicast)."""
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 zone id (fe80::1%eth0) is not part of the address
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_loopback_host(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _whsec_ok(secret, min_bytes):
    """A Standard Webhooks secret: whsec_ then the base64 of the random bytes."""
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        return False
    encoded = secret.removeprefix("whsec_")
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) >= min_bytes


def _callback_url_problem(url, local):
    """Why a callback URL is refused, or None: outside local it must be https to a public host."""
    # Names are not resolved here (DNS can change after start-up): literal addresses and localhost are
    # refused now, and the address actually connected to is checked at every delivery (bff/delivery.py).
    if not isinstance(url, str):
        return "must be a URL"
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # .port raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in (("http", "https") if local else ("https",)):
        return "must be http or https" if local else "must be https outside OSIGU_ENV=local"
    if not host:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment:
        return "must not have a fragment"
    if local:
        return None
    if _is_loopback_host(host):
        return "must not point at this machine outside OSIGU_ENV=local"
    try:
        public = is_public_address(host)
    except ValueError:
        return None  # a name: its address is checked when each callback is delivered
    return None if public else "must not point at a loopback, private or link-local address outside OSIGU_ENV=local"


def parse_host_apps(raw, local=True):
    """Read BFF_HOST_APPS (a JSON list) into HostApps, refusing anything ambiguous (or, outside local, weak)."""
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
                               "national_repository_id", "signing_key_file", "admin", "outcome_format", "cds", "smart"}
        if unknown:
            raise ConfigError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
        origins = item.get("origins")
        if not isinstance(origins, list) or not origins or not all(origin_ok(o) for o in origins):
            raise ConfigError(f"{where}.origins must list exact origins such as 'https://his.example.com' "
                              "(scheme and host, no path).")
        if not local and not all(origin.startswith("https://") for origin in origins):
            raise ConfigError(f"{where}.origins must be https outside OSIGU_ENV=local: a page on http can be "
                              "tampered with on its way.")
        if len(item["api_key"]) < 16:
            raise ConfigError(f"{where}.api_key is too short; use at least 16 random characters.")
        if item["api_key"] in keys:
            raise ConfigError(f"{where}.api_key is used by another host app.")
        keys.add(item["api_key"])
        if bool(item.get("callback_url")) != bool(item.get("callback_secret")):
            raise ConfigError(f"{where}: callback_url and callback_secret (whsec_...) go together.")
        if item.get("callback_url"):
            problem = _callback_url_problem(item["callback_url"], local)
            if problem:
                raise ConfigError(f"{where}.callback_url {problem}.")
            if not _whsec_ok(item["callback_secret"], 1 if local else MIN_WEBHOOK_SECRET_BYTES):
                raise ConfigError(f"{where}.callback_secret must be whsec_ followed by the base64 of "
                                  f"{MIN_WEBHOOK_SECRET_BYTES}+ random bytes (Standard Webhooks).")
        if bool(item.get("osigu_client_id")) != bool(item.get("osigu_client_secret")):
            raise ConfigError(f"{where}: osigu_client_id and osigu_client_secret go together.")
        if not isinstance(item.get("admin", False), bool):
            raise ConfigError(f"{where}.admin must be true or false.")
        if item.get("prescription_version", "v1") not in PRESCRIPTION_VERSIONS:
            raise ConfigError(f"{where}.prescription_version must be one of {', '.join(PRESCRIPTION_VERSIONS)}.")
        if item.get("outcome_format", "osigu") not in OUTCOME_FORMATS:
            raise ConfigError(f"{where}.outcome_format must be one of {', '.join(OUTCOME_FORMATS)}.")
        issuers = _cds_issuers(item.get("cds"), where, local)
        apps.append(HostApp(
            id=item["id"], api_key=item["api_key"], origins=tuple(origins),
            callback_url=item.get("callback_url"), callback_secret=item.get("callback_secret"),
            osigu_client_id=item.get("osigu_client_id"), osigu_client_secret=item.get("osigu_client_secret"),
            prescription_version=item.get("prescription_version", "v1"),
            national_repository_id=item.get("national_repository_id"), signing_key_file=item.get("signing_key_file"),
            admin=item.get("admin", False), outcome_format=item.get("outcome_format", "osigu"), cds_issuers=issuers,
            smart=_smart_client(item.get("smart"), where, local),
        ))
    if len({app.id for app in apps}) != len(apps):
        raise ConfigError("BFF_HOST_APPS has two host apps with the same id.")
    issuers = [iss for app in apps for iss, _ in app.cds_issuers]
    if len(set(issuers)) != len(issuers):
        raise ConfigError("BFF_HOST_APPS: a CDS Hooks issuer belongs to one host app only (its calls are that app's).")
    launchers = [iss for app in apps if app.smart for iss in app.smart.issuers]
    if len(set(launchers)) != len(launchers):
        raise ConfigError("BFF_HOST_APPS: a SMART issuer belongs to one host app only (its launches are that app's).")
    return tuple(apps)


def _smart_client(smart, where, local):
    """Read a host app's `"smart": {"issuers", "client_id", "client_secret"? | "jwks_private_key"?,
    "identifier_system"}`."""
    if smart is None:
        return None
    shape = (f"{where}.smart must be {{\"issuers\": [\"<FHIR base URL>\"], \"client_id\": \"...\", "
             "\"client_secret\"?: \"...\" | \"jwks_private_key\"?: {<private JWK>}, \"identifier_system\": "
             "\"<the Patient identifier system of its documents>\"}.")
    if not isinstance(smart, dict) or set(smart) - {"issuers", "client_id", "client_secret", "jwks_private_key",
                                                   "identifier_system"}:
        raise ConfigError(shape)
    issuers = smart.get("issuers")
    if not isinstance(issuers, list) or not issuers or not all(
            isinstance(iss, str) and iss.startswith("http" if local else "https://") and "?" not in iss
            for iss in issuers):
        raise ConfigError(f"{where}.smart.issuers must list the EHRs' FHIR base URLs"
                          f"{'' if local else ' (https outside OSIGU_ENV=local)'}.")
    if not all(isinstance(smart.get(k), str) and smart[k] for k in ("client_id", "identifier_system")):
        raise ConfigError(shape)
    if "client_secret" in smart and not (isinstance(smart["client_secret"], str) and smart["client_secret"]):
        raise ConfigError(shape)
    if "client_secret" in smart and "jwks_private_key" in smart:
        raise ConfigError(f"{where}.smart: client_secret and jwks_private_key exclude each other; give the one "
                          "way of authenticating the EHR registered the app with.")
    private_key = smart.get("jwks_private_key")
    return SmartClient(issuers=tuple(iss.rstrip("/") for iss in issuers), client_id=smart["client_id"],
                       identifier_system=smart["identifier_system"], client_secret=smart.get("client_secret"),
                       jwks_private_key=None if private_key is None else _assertion_key(
                           private_key, f"{where}.smart.jwks_private_key"))


def _assertion_key(raw, where):
    """A private RSA (RS384) or EC P-384 (ES384) JWK, as JSON text with its kid (else its thumbprint) and alg."""
    if not isinstance(raw, dict) or "keys" in raw:
        raise ConfigError(f"{where} must be one private JWK as a JSON object, such as {{\"kty\": \"EC\", "
                          "\"crv\": \"P-384\", \"x\": ..., \"y\": ..., \"d\": ..., \"kid\": ...} (not a JWKS).")
    try:
        with warnings.catch_warnings():  # joserfc warns of a short RSA key; the check below refuses it instead
            warnings.simplefilter("ignore")
            key = jwk.import_key(raw)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ConfigError(f"{where} is not a usable JWK ({type(error).__name__}: {error}).") from None
    if key.key_type not in SMART_ASSERTION_ALGS:
        raise ConfigError(f"{where} is not an RSA or EC key (kty {key.key_type}): SMART's asymmetric client "
                          "authentication signs with an RSA (RS384) or EC P-384 (ES384) private key; a shared "
                          "secret goes in client_secret.")
    if not key.is_private:
        raise ConfigError(f"{where} is a public key: give the private JWK (with \"d\"); the BFF publishes its "
                          "public half for the EHR at /smart/<host app id>/jwks.json.")
    alg = SMART_ASSERTION_ALGS[key.key_type]
    if raw.get("alg", alg) != alg or (key.key_type == "EC" and raw.get("crv") != "P-384"):
        raise ConfigError(f"{where}: SMART allows RS384 with an RSA key or ES384 with an EC P-384 key, not "
                          f"{raw.get('alg') or raw.get('crv')}.")
    if key.key_type == "RSA" and key.public_key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"{where} is an RSA key of {key.public_key.key_size} bits; use {MIN_RSA_BITS} or more.")
    return json.dumps(key.as_dict(private=True) | {"kid": raw.get("kid") or key.thumbprint(), "alg": alg})


def _cds_issuers(cds, where, local):
    """Read a host app's `"cds": {"issuers": {iss: jwks_url}}`: the EHRs whose CDS Hooks calls it answers."""
    if cds is None:
        return ()
    issuers = cds.get("issuers") if isinstance(cds, dict) and set(cds) == {"issuers"} else None
    if not isinstance(issuers, dict) or not issuers:
        raise ConfigError(f"{where}.cds must be {{\"issuers\": {{\"<the EHR's JWT iss>\": \"<its JWKS URL>\"}}}}.")
    for iss, jwks_url in issuers.items():
        if not iss or not isinstance(jwks_url, str) or not jwks_url.startswith("https://" if not local else "http"):
            raise ConfigError(f"{where}.cds.issuers[{iss!r}] must be the URL of the EHR's JWKS"
                              f"{'' if local else ' (https outside OSIGU_ENV=local)'}.")
    return tuple(sorted(issuers.items()))


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


def _days(environ, name, default):
    raw = environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise ConfigError(f"{name} must be a whole number of days between 1 and 3650; got {raw!r}.")
    return int(raw)


def _redis_url(url):
    if url and urlsplit(url).scheme not in ("redis", "rediss"):
        raise ConfigError(f"BFF_REDIS_URL must be a redis:// or rediss:// URL; got {url!r}.")
    return url or None


def from_environment(environ=None):
    """Build the Flask config mapping from environment variables, applying local defaults."""
    environ = dict(os.environ if environ is None else environ)
    env = environ.get("OSIGU_ENV") or "local"  # empty is unset, as for every other setting
    if env not in ENVIRONMENTS:
        raise ConfigError(f"OSIGU_ENV must be one of {', '.join(ENVIRONMENTS)}; got {env!r}.")
    local = env == "local"
    base_url = (environ.get("OSIGU_BASE_URL") or ENVIRONMENTS[env]).rstrip("/")
    _check_base_url(base_url, env)
    if local:
        environ = LOCAL_DEFAULTS | {k: v for k, v in environ.items() if v}
    else:
        _check_secret_key(environ.get("BFF_SECRET_KEY"), env)
    config = {
        "OSIGU_ENV": env,
        "OSIGU_BASE_URL": base_url,
        "OSIGU_CLIENT_ID": environ.get("OSIGU_CLIENT_ID"),
        "OSIGU_CLIENT_SECRET": environ.get("OSIGU_CLIENT_SECRET"),
        "OSIGU_WEBHOOK_SECRET": environ.get("OSIGU_WEBHOOK_SECRET"),
        # Local only: a per-process key, so sessions end when the demo restarts.
        "SECRET_KEY": environ.get("BFF_SECRET_KEY") or secrets.token_hex(32),
        "HOST_APPS": parse_host_apps(environ.get("BFF_HOST_APPS") or "null", local),
        # Idle expiry: every request moves it on, never past the absolute maximum counted from creation.
        "SESSION_TTL_SECONDS": _seconds(environ, "BFF_SESSION_TTL_SECONDS", 30 * 60),
        "SESSION_MAX_SECONDS": _seconds(environ, "BFF_SESSION_MAX_SECONDS", 12 * 3600),
        # How long after it expired a session's token still proves that a renewed session continues its work.
        "SESSION_RENEWAL_GRACE_SECONDS": _seconds(environ, "BFF_SESSION_RENEWAL_GRACE_SECONDS", 2 * 3600),
        "RETENTION_DAYS": _days(environ, "BFF_RETENTION_DAYS", 30),
        "OSIGU_NATIONAL_REPOSITORY_ID": environ.get("OSIGU_NATIONAL_REPOSITORY_ID"),
        "OSIGU_SIGNING_KEY_FILE": environ.get("OSIGU_SIGNING_KEY_FILE"),
        # Outside local a callback may only reach a public address, whatever its name resolves to.
        "CALLBACKS_PUBLIC_ONLY": not local,
        # Per host app; checked where they are applied (bff/rate_limits.py).
        "RATE_LIMIT_SESSIONS": environ.get("BFF_RATE_LIMIT_SESSIONS") or "600/minute",
        "RATE_LIMIT_PROXY": environ.get("BFF_RATE_LIMIT_PROXY") or "1200/minute",
        "RATE_LIMIT_COVERAGE": environ.get("BFF_RATE_LIMIT_COVERAGE") or "120/minute",  # also per EHR (CDS Hooks)
    }
    config["TRUSTED_PROXIES"], config["PROXY_HOPS"] = _trusted_proxies(environ)
    # Optional: Osigu tokens and rate-limit counters shared by every replica (bff/shared_tokens.py).
    config["REDIS_URL"] = _redis_url(environ.get("BFF_REDIS_URL"))
    if environ.get("BFF_DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = environ["BFF_DATABASE_URL"]
    check(config)
    return config


def _check_base_url(base_url, env):
    """OSIGU_BASE_URL is http(s), https outside local; local (public demo credentials) is for this machine only."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"OSIGU_BASE_URL must be an http(s) URL; got {base_url!r}.")
    if env == "local" and not _is_loopback_host(parts.hostname):
        raise ConfigError(f"OSIGU_BASE_URL points at {parts.hostname}, but OSIGU_ENV is local (the default), which "
                          "is only for the simulator on this machine and uses public demo credentials: "
                          "set OSIGU_ENV=sandbox or production.")
    if env != "local" and parts.scheme != "https":
        raise ConfigError(f"OSIGU_BASE_URL must be https in {env}: it carries your credentials and patients' data.")


def _check_secret_key(key, env):
    """BFF_SECRET_KEY signs widget sessions: outside local it must be long and random."""
    if not key:
        raise ConfigError(f"BFF_SECRET_KEY is required when OSIGU_ENV={env}: it signs widget sessions "
                          "(use 32+ random bytes, the same on every worker).")
    if len(key) < MIN_SECRET_KEY_CHARS or len(set(key)) < 8:
        raise ConfigError(f"BFF_SECRET_KEY is too weak ({len(key)} characters, {len(set(key))} different): use "
                          f"{MIN_SECRET_KEY_CHARS}+ random characters, e.g. python3 -c 'import secrets; "
                          "print(secrets.token_hex(32))'.")


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
    local = config["OSIGU_ENV"] == "local"
    if config["OSIGU_WEBHOOK_SECRET"] and not _whsec_ok(config["OSIGU_WEBHOOK_SECRET"],
                                                         1 if local else MIN_WEBHOOK_SECRET_BYTES):
        raise ConfigError("OSIGU_WEBHOOK_SECRET must be the whsec_... secret Osigu gave you (whsec_ followed by "
                          f"the base64 of {MIN_WEBHOOK_SECRET_BYTES}+ bytes).")


def _check_v2_certification(app, config):
    """A v2 (Spain) host app needs its provider's repository id and a readable P-256 signing key."""
    repository_id = app.national_repository_id or config["OSIGU_NATIONAL_REPOSITORY_ID"]
    key_file = app.signing_key_file or config["OSIGU_SIGNING_KEY_FILE"]
    if not repository_id or not key_file:
        raise ConfigError(f"Host app {app.id} prescribes v2 (Spain): set OSIGU_NATIONAL_REPOSITORY_ID and "
                          "OSIGU_SIGNING_KEY_FILE, or its national_repository_id and signing_key_file.")
    if not os.access(key_file, os.R_OK):
        raise ConfigError(f"Host app {app.id}: the signing key file {key_file} cannot be read.")
