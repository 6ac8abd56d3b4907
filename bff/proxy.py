"""The API proxy for integrators without widgets: their API key in, the tenant's Osigu token out.

Host apps that share Osigu credentials share one Osigu provider, so the proxy keeps them apart:
every route it forwards is listed in ROUTES with who may call it (README: "The proxy's tenant model").
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from . import host_apps, osigu_scopes, ownership, provider_products
from .db import db
from .errors import ApiError
from .upstream import UpstreamError, passthrough

bp = Blueprint("proxy", __name__, url_prefix="/v1/osigu")

REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language")
RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Retry-After", "Idempotent-Replayed")
STREAM_CHUNK = 64 * 1024
# Osigu's ids, codes and slugs; anything else (%, ?, #, ;, \, spaces, dot segments) could mean one path
# here and another upstream, so the path forwarded is exactly the path checked.
SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")
MAX_IDEMPOTENCY_KEY = 200

OPEN, OWN, ADMIN = "open", "own", "admin"


@dataclass(frozen=True)
class Rule:
    """Who may call a route (OPEN: any host app; OWN: the owner of the object named by {id}; ADMIN) and
    which objects of its JSON answer become the caller's: (kind, field), "list[].field" for each item."""

    access: str
    kind: str | None = None
    binds: tuple[tuple[str, str], ...] = ()


def own(kind, *binds):
    return Rule(OWN, kind, binds)


def creates(kind, field, access=OPEN):
    return Rule(access, binds=((kind, field),))


ROUTES = [
    # Catalogues and the provider's shared registries: every host app of the tenant.
    ("GET", "medical-catalogs/v1/medications", Rule(OPEN)),
    ("GET", "medical-catalogs/v1/diagnoses", Rule(OPEN)),
    ("GET", "arc/v1/products", Rule(OPEN)),
    ("GET", "arc/v1/providers/products", Rule(OPEN)),  # what the provider may prescribe: a catalogue
    ("GET", "arc/v1/sponsors", Rule(OPEN)),
    ("GET", "arc/v1/sponsors/{_}/configuration", Rule(OPEN)),
    ("POST", "arc/v1/sponsors/{_}/beneficiaries/search", Rule(OPEN)),
    ("GET", "ehr/v1/patients", Rule(OPEN)),  # a clinic finds its patient by document (seed 004)
    ("POST", "ehr/v1/patients", Rule(OPEN)),
    ("GET", "ehr/v1/patients/{_}", Rule(OPEN)),
    # A code is the credential: the beneficiary brings it to any provider (seeds 000, 001).
    ("POST", "dispensing/v1/dispensations", creates("dispensation", "dispensation_id")),
    ("GET", "arc/v1/authorizations/{_}", Rule(OPEN)),
    # Objects: created through the proxy they are the caller's; by id, only the owner's.
    ("POST", "ehr/v1/prescriptions", creates("prescription", "prescription_id")),
    ("POST", "ehr/v1.1/prescriptions", creates("prescription", "prescription_id")),
    ("POST", "ehr/v2/prescriptions", creates("prescription", "prescription_id")),
    ("GET", "ehr/v1/prescriptions/{id}", own("prescription")),
    ("GET", "ehr/v1/prescriptions/{id}/pdf", own("prescription")),
    ("POST", "ehr/v1/prescriptions/{id}/resend", own("prescription")),
    ("POST", "ehr/v1/prescriptions/{id}/cancel", own("prescription")),
    ("GET", "dispensing/v1/dispensations/{id}", own("dispensation")),
    ("PUT", "dispensing/v1/dispensations/{id}/products", own("dispensation")),
    ("GET", "dispensing/v1/dispensations/{id}/verification-status", own("dispensation")),
    ("POST", "dispensing/v1/dispensations/{id}/complete", own("dispensation", ("claim", "claim_id"))),
    ("POST", "dispensing/v1/dispensations/{id}/void", own("dispensation")),
    ("POST", "dispensing/v1/dispensations/{id}/otp", own("dispensation")),
    ("POST", "dispensing/v1/dispensations/{id}/biometric", own("dispensation")),
    ("POST", "arc/v1/preauthorizations", creates("preauthorization", "preauthorization_id")),
    ("GET", "arc/v1/preauthorizations/{id}", own("preauthorization")),
    ("PUT", "arc/v1/preauthorizations/{id}/indications", own("preauthorization")),
    ("POST", "arc/v1/preauthorizations/{id}/documents", own("preauthorization")),
    ("DELETE", "arc/v1/preauthorizations/{id}/documents/{_}", own("preauthorization")),
    ("POST", "arc/v1/preauthorizations/{id}/complete",
     own("preauthorization", ("authorization", "authorizations[].authorization_code"))),
    ("POST", "arc/v1/preauthorizations/{id}/reopen", own("preauthorization")),
    ("GET", "arc/v1/preauthorizations/{id}/verification-status", own("preauthorization")),
    ("POST", "arc/v1/preauthorizations/{id}/otp", own("preauthorization")),
    ("POST", "arc/v1/preauthorizations/{id}/biometric", own("preauthorization")),
    ("POST", "arc/v1/authorizations/{id}/void", own("authorization")),
    ("POST", "arc/v1/claims", creates("claim", "claim_id")),
    ("GET", "arc/v1/claims/{id}", own("claim")),
    # Provider-wide operations: only a host app marked "admin" (which also reaches every object).
    ("POST", "arc/v1/providers/products", Rule(ADMIN)),
    ("DELETE", "arc/v1/providers/products/{_}", Rule(ADMIN)),
    ("GET", "arc/v1/authorizations", Rule(ADMIN)),
    ("GET", "arc/v1/claims", Rule(ADMIN)),
    ("GET", "v3/settlements", Rule(ADMIN)),
    ("POST", "v3/settlements", creates("settlement", "settlement_id", ADMIN)),
    ("GET", "v3/settlements/{_}", Rule(ADMIN)),
    ("POST", "v3/settlements/{_}/submit", Rule(ADMIN)),
]


def _compile(template):
    pattern = re.escape(template).replace(r"\{id\}", "(?P<id>[^/]+)").replace(r"\{_\}", "[^/]+")
    return re.compile(pattern)


TABLE = [(method, _compile(template), rule) for method, template, rule in ROUTES]


def _checked_path(path):
    """Refuse a path that could reach Osigu as anything but what it says here."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")  # as sent, before decoding
    if raw is not None and urlsplit(raw).path != request.script_root + request.path:
        raise ApiError(400, "BFF-PROXY-PATH", "Send the proxied path unencoded: ids and codes need no %-escapes.")
    if not all(SEGMENT.fullmatch(segment) for segment in path.split("/")):
        raise ApiError(400, "BFF-PROXY-PATH", "The proxied path has characters no Osigu path has.")
    return path


def _route(method, path):
    """The rule for a call and the object id its path names; 403 for anything unlisted (deny by default)."""
    for allowed, pattern, rule in TABLE:
        match = pattern.fullmatch(path)
        if match and allowed == method:
            return rule, match.groupdict().get("id")
    raise ApiError(403, "BFF-PROXY-PATH", f"{method} /{path} is not an Osigu call the proxy forwards.")


def _authorize(host_app, rule, object_id):
    if host_app.admin:
        return
    if rule.access == ADMIN:
        raise ApiError(403, "BFF-PROXY-ADMIN", "This provider-wide operation needs a host app marked admin.")
    if rule.access == OWN and not ownership.host_app_owns(host_app.id, rule.kind, object_id):
        raise ApiError(404, "BFF-404", "Not found.")


def _values(body, field):
    """The strings at field of a JSON answer ("list[].field": of each item of list)."""
    name, _, item_field = field.partition("[].")
    items = (body.get(name) if isinstance(body.get(name), list) else []) if item_field else [body]
    values = [item.get(item_field or field) for item in items if isinstance(item, dict)]
    return [value for value in values if isinstance(value, str) and value]


def _bind_answer(host_app, rule, upstream):
    """Bind the objects a successful answer names to the caller and commit, before answering.

    Committed before the caller can act on them; a created object another host app already owns
    (a replay of its request) is refused and not shown.
    """
    content = upstream.content
    try:
        body = upstream.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        current_app.logger.warning("proxied answer without a JSON object; nothing bound")
        return content
    for kind, field in rule.binds:
        for upstream_id in _values(body, field):
            if not ownership.bind_to_host_app(host_app.id, kind, upstream_id) and rule.access != OWN:
                raise ApiError(409, "BFF-409", "This object belongs to another host app.")
            db.session.commit()  # each on its own: a lost race on one (a rollback) keeps the others
    return content


def _idempotency_key():
    """The caller's key, namespaced by host app: two host apps on one provider never replay each other."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ApiError(422, "BFF-422", f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters.")
    return key


@bp.route("/<path:path>", methods=["OPTIONS"], provide_automatic_options=False)
def methods(path):
    """Answer which methods the proxy forwards for this path (Flask's own answer would list every method)."""
    host_apps.authenticate()
    path = _checked_path(path)
    allowed = sorted({method for method, pattern, _ in TABLE if pattern.fullmatch(path)})
    if not allowed:
        raise ApiError(403, "BFF-PROXY-PATH", f"/{path} is not an Osigu call the proxy forwards.")
    return Response(status=204, headers={"Allow": ", ".join([*allowed, "OPTIONS"])})


@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], provide_automatic_options=False)
def forward(path):
    """Forward a listed Osigu call with the host app's tenant token, if this host app may make it."""
    host_app = host_apps.authenticate()
    path = _checked_path(path)
    rule, object_id = _route(request.method, path)
    _authorize(host_app, rule, object_id)
    key = _idempotency_key()
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    client = host_apps.upstream_for(host_app)
    try:
        upstream = client.request(
            request.method, "/" + path, params=list(request.args.items(multi=True)),
            data=request.get_data() or None, headers=headers, stream=not rule.binds,
            idempotency_key=key and f"{host_app.id}:{key}",
        )
    except UpstreamError as error:
        missing_scope = osigu_scopes.refusal(error, client, request.method, path)
        if missing_scope is None:
            raise
        raise missing_scope from error
    provider_products.forget_after(host_app, request.method, path)
    kept = {name: upstream.headers[name] for name in RESPONSE_HEADERS if name in upstream.headers}
    current_app.logger.debug("proxied %s /%s -> %s", request.method, path, upstream.status_code)
    chunks = passthrough(upstream, STREAM_CHUNK)
    if rule.binds:
        return Response(_bind_answer(host_app, rule, upstream), status=upstream.status_code, headers=kept)

    def body():
        try:
            yield from chunks
        finally:
            upstream.close()

    return Response(body(), status=upstream.status_code, headers=kept, direct_passthrough=True)
