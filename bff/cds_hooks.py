"""CDS Hooks coverage service (order-select, order-sign) and its REST twin, POST /v1/coverage-check.

An EHR calls with a JWT signed by a key in its JWKS; its `iss` names the host app whose
`cds.issuers` lists it, and `aud` must be this service's URL; the token is short-lived and used once
(bff/cds_replay.py). The sponsor is the payor of the
`coverage` prefetch (a Coverage, or a Bundle of them, whose payor carries an identifier in
`https://osigu.com/fhir/sponsor`); without one there is nothing to say, and the answer has no cards.
Each draft order with a product coding (`https://osigu.com/fhir/product-code`) gets Da Vinci CRD's
coverage-information extension in a system action; products not covered get a card proposing a
covered equivalent where one exists; covered ones a SMART link card that opens the preauth widget
prefilled (its appContext is the preauth session context, coverage assertion included: the orders it
answered for are kept under that assertion, for the preauth's outcome to update them). The answer and
its cards, in the user's language, are built by bff/coverage_cards.py.
"""

import json
import re
import time

from flask import Blueprint, current_app, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from . import cds_replay, contexts, coverage, coverage_cards, delivery, host_apps
from .bodies import request_json
from .errors import ApiError
from .fhir_outcomes import ICD10, PRODUCT_CODE, SPONSOR
from .upstream import UpstreamError

bp = Blueprint("cds_hooks", __name__)

SERVICES = {
    "osigu-coverage-order-select": "order-select",
    "osigu-coverage-order-sign": "order-sign",
}
# The user's Practitioner gives the cards' language (bff/coverage_cards.py).
PREFETCH = {"coverage": "Coverage?patient={{context.patientId}}&status=active", "user": "{{context.userId}}"}
ALGORITHMS = ["RS384", "ES384", "RS256", "ES256"]  # CDS Hooks requires ES384 and RS384
JWKS_MAX_AGE_SECONDS = 300
JWKS_MIN_REFETCH_SECONDS = 10  # an unknown kid refetches, but no more often: a bad token cannot hammer the EHR
MAX_ORDERS = 20
SPONSOR_SLUG = r"^[a-z0-9-]{1,50}$"


@bp.get("/cds-services")
def discovery():
    """List the coverage services, each with the Coverage prefetch it needs."""
    return {"services": [{
        "hook": hook, "id": service_id, "title": "Osigu coverage",
        "description": f"Coverage, pre-authorization and documents from the patient's sponsor ({hook}).",
        "prefetch": PREFETCH,
    } for service_id, hook in SERVICES.items()]}


@bp.post("/cds-services/<service_id>")
def call(service_id):
    """Answer a hook call for the draft orders: system actions with coverage information, and cards."""
    if service_id not in SERVICES:
        raise ApiError(404, "CDS-404", "No such CDS service.")
    host_app = _verified_host_app()
    body = json_object()
    if body.get("hook") != SERVICES[service_id] or not isinstance(body.get("context"), dict):
        raise ApiError(400, "CDS-400", f"This service answers the {SERVICES[service_id]} hook.")
    prefetch = body.get("prefetch") if isinstance(body.get("prefetch"), dict) else {}
    coverage_cards.use_language(prefetch)
    found = _coverage(prefetch)
    orders = _orders(body["context"], body["hook"])
    if found is None or not orders:
        return {"cards": []}
    try:
        answer = coverage.check(host_app, found["sponsor"], [order["check"] for order in orders])
    except UpstreamError:
        return {"cards": []}  # a hook must never block the order: no answer is better than a wrong one
    response = coverage_cards.hook_response(answer, orders, found["reference"])
    # The orders as annotated: a preauth opened from this answer sends them back updated with its authorization.
    coverage.keep_orders(answer["coverage_assertion_id"], [action["resource"] for action in response["systemActions"]
                                                           if action["resource"].get("id")])
    return response


@bp.post("/v1/coverage-check")
def coverage_check():
    """The same answer as JSON, for hosts without CDS Hooks: {sponsor, products: [{product_code, quantity}]}."""
    host_app = host_apps.authenticate()
    body = json_object()
    products = body.get("products")
    sponsor = body.get("sponsor")
    if not (isinstance(sponsor, str) and re.fullmatch(SPONSOR_SLUG, sponsor) and isinstance(products, list)
            and 0 < len(products) <= MAX_ORDERS):
        raise ApiError(422, "BFF-422", 'Send {"sponsor": "<sponsor slug>", "products": [{"product_code", "quantity"}]} '
                                       f"with 1 to {MAX_ORDERS} products.")
    orders = [_checked_product(item) for item in products]
    diagnoses = body.get("diagnoses", [])
    if not (isinstance(diagnoses, list) and len(diagnoses) <= coverage_cards.MAX_DIAGNOSES and all(
            isinstance(code, str) and re.fullmatch(contexts.ICD10_CODE, code) for code in diagnoses)):
        raise ApiError(422, "BFF-422", f"diagnoses are at most {coverage_cards.MAX_DIAGNOSES} ICD-10 codes (e.g. R51).")
    try:
        answer = coverage.check(host_app, sponsor, orders)
    except UpstreamError as error:
        raise ApiError(error.status if error.status < 500 else 502, error.error_code, error.message) from None
    return answer | {"preauth_context": coverage_cards.preauth_context(answer, diagnoses)}


def json_object():
    """This request's JSON body, which must be an object."""
    body = request_json()
    if not isinstance(body, dict):
        raise ApiError(422, "BFF-422", "The body must be a JSON object.")
    return body


def _checked_product(item):
    """A product to check, in the shape a preauth context accepts (it may open the widget next)."""
    code = item.get("product_code") if isinstance(item, dict) else None
    if not isinstance(code, str) or not re.fullmatch(contexts.PRODUCT_CODE, code):
        raise ApiError(422, "BFF-422", "Each product needs a product_code (e.g. MED-001).")
    quantity = item.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 1000:
        raise ApiError(422, "BFF-422", "A quantity is a whole number from 1 to 1000.")
    return {"product_code": item["product_code"], "quantity": quantity}


# The EHR's JWT.

def claimed_issuer():
    """The Bearer JWT and the `iss` it claims, not verified yet; 401 without a JWT naming one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "CDS-401", "Send the EHR's JWT: 'Authorization: Bearer <jwt>'.")
    try:
        issuer = json.loads(extract_compact(token.encode()).payload)["iss"]
        return token, issuer if isinstance(issuer, str) else str(issuer)
    except (JoseError, ValueError, KeyError, TypeError):
        raise ApiError(401, "CDS-401", "The Authorization header is not a JWT.") from None


def _verified_host_app():
    """The host app whose EHR signed the Bearer JWT, or 401 (unknown issuer, bad signature, wrong audience)."""
    token, issuer = claimed_issuer()
    match = next(((app, dict(app.cds_issuers)[issuer]) for app in host_apps.all_host_apps()
                  if issuer in dict(app.cds_issuers)), None)
    if match is None:
        raise ApiError(401, "CDS-401", "This issuer is not registered with any host app.")
    host_app, jwks_url = match
    claims = jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                                   aud={"essential": True, "value": request.base_url},
                                   exp={"essential": True}, jti={"essential": True},
                                   leeway=cds_replay.CLOCK_SKEW_SECONDS)
    try:
        verified = jwt.decode(token, _key_set(jwks_url), algorithms=ALGORITHMS).claims
        claims.validate(verified)
    except (JoseError, ValueError, delivery.DeliveryError) as error:
        raise ApiError(401, "CDS-401", f"The EHR's JWT was refused ({type(error).__name__}).") from None
    problem = cds_replay.lifetime_problem(verified, time.time())
    if problem:
        raise ApiError(401, "CDS-401", f"The EHR's JWT was refused: {problem}.")
    if not cds_replay.spend(issuer, verified):  # checked last: only a valid token is spent
        raise ApiError(401, "CDS-401", "The EHR's JWT was refused: its jti was used before (a replay); "
                                       "sign a new token, with a new jti, for each call.")
    return host_app


def _key_set(jwks_url):
    """A resolver for the issuer's keys: its JWKS, cached, fetched again for a kid it does not have yet."""
    cache = current_app.extensions.setdefault("bff.cds_jwks", {})

    def fetch():
        session = delivery.new_session()
        found = delivery.get_json(session, jwks_url, current_app.config["OUTBOX_DEADLINE_SECONDS"],
                                  current_app.config["CALLBACKS_PUBLIC_ONLY"])
        cache[jwks_url] = (time.monotonic(), KeySet.import_key_set(found))
        return cache[jwks_url][1]

    def resolve(guest):
        fetched_at, keys = cache.get(jwks_url, (None, None))
        age = time.monotonic() - fetched_at if fetched_at is not None else None
        if keys is None or age > JWKS_MAX_AGE_SECONDS:
            return fetch()
        kid = guest.headers().get("kid")
        if kid and all(key.kid != kid for key in keys.keys) and age > JWKS_MIN_REFETCH_SECONDS:
            return fetch()
        return keys

    return resolve


# The hook's input.

def _coverage(prefetch):
    """The sponsor slug and the Coverage reference from the `coverage` prefetch, or None."""
    given = prefetch.get("coverage")
    if not isinstance(given, dict):
        return None
    candidates = ([entry.get("resource") for entry in given.get("entry") or []]
                  if given.get("resourceType") == "Bundle" else [given])
    for resource in candidates:
        if not isinstance(resource, dict) or resource.get("resourceType") != "Coverage":
            continue
        for payor in resource.get("payor") or []:
            identifier = (payor or {}).get("identifier") or {}
            if identifier.get("system") == SPONSOR and re.fullmatch(SPONSOR_SLUG, str(identifier.get("value"))):
                return {"sponsor": identifier["value"], "reference": f"Coverage/{resource.get('id')}"}
    return None


def _orders(context, hook):
    """The draft orders to answer for (order-select: the selected ones) that carry an Osigu product coding."""
    drafts = context.get("draftOrders") if isinstance(context.get("draftOrders"), dict) else {}
    selections = context.get("selections") if hook == "order-select" else None
    orders = []
    for entry in (drafts.get("entry") or [])[:MAX_ORDERS * 5]:
        resource = (entry or {}).get("resource") or {}
        kind = resource.get("resourceType")
        if kind not in ("MedicationRequest", "ServiceRequest"):
            continue
        if selections is not None and f"{kind}/{resource.get('id')}" not in selections:
            continue
        concept = resource.get("medicationCodeableConcept" if kind == "MedicationRequest" else "code") or {}
        code = next((coding.get("code") for coding in concept.get("coding") or []
                     if coding.get("system") == PRODUCT_CODE and isinstance(coding.get("code"), str)), None)
        if code:
            orders.append({"resource": resource, "check": {"product_code": code, "quantity": _quantity(resource)},
                           "diagnoses": _diagnoses(resource)})
    return orders[:MAX_ORDERS]


def _quantity(resource):
    value = (((resource.get("dispenseRequest") or {}).get("quantity") or resource.get("quantityQuantity") or {})
             .get("value"))
    return int(value) if isinstance(value, int | float) and 1 <= value <= 1000 else 1


def _diagnoses(resource):
    return [coding["code"] for concept in resource.get("reasonCode") or [] for coding in concept.get("coding") or []
            if coding.get("system") == ICD10 and isinstance(coding.get("code"), str)]
