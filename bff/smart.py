"""SMART on FHIR EHR launch: an EHR opens a widget in its own frame, signed in without a popup or a cookie.

The launch asks the EHR's authorization server for a code (PKCE S256, state kept here, single use);
the callback exchanges it server-side (authenticated by a client secret or a signed client assertion),
verifies the id_token that names the user, reads the launch context, finds the patient at Osigu by the
identifier system the host app registered, mints a widget session and serves the widget page itself.
"""

import json
import secrets
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

from authlib.integrations.requests_client.oauth2_session import OAuth2ClientAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from joserfc import jwk, jwt
from joserfc.errors import JoseError
from pydantic import ValidationError
from sqlalchemy import JSON, DateTime, String, delete, update
from sqlalchemy.orm import Mapped, mapped_column

from . import contexts, delivery, host_apps
from .db import db, utcnow
from .i18n import LOCALES
from .security import cacheable, widget_page_policy
from .sessions import WIDGETS, mint
from .upstream import UpstreamError

bp = Blueprint("smart", __name__)

STATE_TTL = timedelta(minutes=10)  # from the EHR's launch to the doctor back from its authorize page
SCOPES = "launch openid fhirUser patient/Patient.read"
ROLES = {"prescription": "doctor", "preauth": "doctor", "dispensing": "pharmacist"}
DOCUMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
ASSERTION_SECONDS = 300  # SMART: a client assertion expires at most five minutes after it is made
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "ES256", "ES384"]  # RS256 is the one SMART asks every EHR for


class SmartLaunch(db.Model):
    """A launch between the redirect to the EHR and its callback: what the callback needs, used once."""

    __tablename__ = "bff_smart_launch"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    host_app_id: Mapped[str] = mapped_column(String(100))
    widget: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str] = mapped_column(String(300))
    endpoints: Mapped[dict] = mapped_column(JSON)  # the token endpoint, JWKS and issuer the discovery named
    code_verifier: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Refused(Exception):
    """A launch that cannot go on: the page says why (in the doctor's language) with this status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(Refused)
def refused_page(error):
    """A translated page saying why, which the registered EHRs may frame (it shows in their app frame)."""
    # Only text: no script, no form, no data of the launch; any registered host page may show it.
    policy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors " + (
        " ".join(sorted(host_apps.registered_origins())) or "'none'")
    return (render_template("widgets/smart_refused.html", message=error.message), error.status,
            {"Content-Security-Policy": policy})


def _launcher(issuer):
    """The host app that registered this EHR issuer, or None."""
    issuer = issuer.rstrip("/")
    return next((app for app in host_apps.all_host_apps() if app.smart and issuer in app.smart.issuers), None)


def _fetch(method, url, form=None, token=None, client_auth=None):
    """(status, JSON) from the EHR, under the guards of a callback (public addresses only outside local)."""
    session = delivery.new_session()
    session.auth = client_auth
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    session.headers["Accept"] = "application/json"
    try:
        return delivery.exchange_json(session, method, url, current_app.config["OUTBOX_DEADLINE_SECONDS"],
                                      current_app.config["CALLBACKS_PUBLIC_ONLY"], form=form)
    except delivery.DeliveryError as error:
        current_app.logger.warning("SMART: %s %s failed: %s", method, url, error)
        raise Refused(502, _("The EHR did not answer; close this panel and launch the app again.")) from None
    finally:
        session.close()


@bp.get("/smart/<widget>/launch")
def launch(widget):
    """EHR launch: check the issuer, read its SMART configuration and send the browser to its authorize page."""
    g.locale = request.accept_languages.best_match(LOCALES) or "es"
    if widget not in WIDGETS:
        raise Refused(404, _("There is no such widget."))
    issuer, launch_id = request.args.get("iss", ""), request.args.get("launch", "")
    host_app = _launcher(issuer)
    if host_app is None or not launch_id:
        raise Refused(400, _("This EHR is not registered to launch Osigu's widgets."))
    status, found = _fetch("GET", f"{issuer.rstrip('/')}/.well-known/smart-configuration")
    endpoints = found if status == 200 and isinstance(found, dict) else {}
    # The browser is sent to the authorize endpoint: only a web URL (https outside local), never javascript: etc.
    schemes = ("https://",) if current_app.config["CALLBACKS_PUBLIC_ONLY"] else ("https://", "http://")
    if not all(isinstance(endpoints.get(k), str) and endpoints[k].startswith(schemes)
               for k in ("authorization_endpoint", "token_endpoint")):
        raise Refused(502, _("The EHR did not answer; close this panel and launch the app again."))
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    db.session.execute(delete(SmartLaunch).where(SmartLaunch.created_at < utcnow() - STATE_TTL))  # stale launches
    kept = {"token": endpoints["token_endpoint"]}
    # The id_token's keys and issuer, when the EHR signs users in with OpenID Connect (sso-openid-connect).
    if isinstance(endpoints.get("jwks_uri"), str) and endpoints["jwks_uri"].startswith(schemes):
        kept["jwks"] = endpoints["jwks_uri"]
    if isinstance(endpoints.get("issuer"), str):
        kept["issuer"] = endpoints["issuer"]
    db.session.add(SmartLaunch(state=state, host_app_id=host_app.id, widget=widget, issuer=issuer.rstrip("/"),
                               endpoints=kept, code_verifier=verifier, locale=g.locale))
    db.session.commit()
    query = {"response_type": "code", "client_id": host_app.smart.client_id, "redirect_uri": _redirect_uri(),
             "launch": launch_id, "scope": SCOPES, "state": state, "aud": issuer,
             "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    authorize = endpoints["authorization_endpoint"]
    return redirect(f"{authorize}{'&' if '?' in authorize else '?'}{urlencode(query)}")


def _redirect_uri():
    return url_for("smart.callback", _external=True)


def _take_state(state):
    """The launch this state names, marked used in the same statement: a replayed or stale state gets None."""
    cutoff = utcnow() - STATE_TTL
    taken = db.session.execute(
        update(SmartLaunch).where(SmartLaunch.state == state, SmartLaunch.used_at.is_(None),
                                  SmartLaunch.created_at > cutoff).values(used_at=utcnow()))
    db.session.commit()
    return db.session.get(SmartLaunch, state) if taken.rowcount == 1 else None


@bp.get("/smart/callback")
def callback():
    """Exchange the code, read the launch context, find the patient and serve the widget in the EHR's frame."""
    g.locale = request.accept_languages.best_match(LOCALES) or "es"
    started = _take_state(request.args.get("state", ""))
    if started is None:
        raise Refused(400, _("This launch has expired or was already used; launch the app again from the EHR."))
    g.locale = started.locale
    if request.args.get("error"):
        if request.args["error"] == "access_denied":
            raise Refused(403, _("The EHR did not authorize Osigu's widgets for this patient."))
        raise Refused(400, _("The EHR refused the launch; launch the app again from the EHR."))
    host_app = host_apps.by_id(started.host_app_id)
    if host_app is None or host_app.smart is None or started.issuer not in host_app.smart.issuers:
        raise Refused(400, _("This EHR is not registered to launch Osigu's widgets."))
    answer = _exchange(host_app, started, request.args.get("code", ""))
    launched_by = str(_fhir_user(host_app, started, answer) or "SMART user")  # the EHR's Practitioner reference
    origin = _ehr_origin(host_app, answer)
    context = _context(host_app, started, answer)
    user = {"id": launched_by[:100], "name": launched_by[:200], "role": ROLES[started.widget]}
    _session, token = mint(host_app, started.widget, origin, started.locale, user, context)
    messaging = answer.get("smart_web_messaging_handle")
    html = render_template(
        "widgets/shell.html", widget=started.widget, origin=origin, channel="", locale=started.locale,
        start_url=url_for(current_app.extensions["widgets.start"][started.widget]), session_token=token,
        messaging_handle=messaging if isinstance(messaging, str) else "")
    return html, 200, {"Content-Security-Policy": widget_page_policy((origin,))}


def _exchange(host_app, started, code):
    """The token response for code (PKCE verifier and, when registered, the client secret); refused otherwise."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": _redirect_uri(),
            "client_id": host_app.smart.client_id, "code_verifier": started.code_verifier}
    if host_app.smart.client_secret:
        form["client_secret"] = host_app.smart.client_secret
    status, answer = _fetch("POST", started.endpoints["token"], form=form,
                            client_auth=_assertion_auth(host_app.smart, started.endpoints["token"]))
    if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise Refused(400, _("The EHR refused the launch; launch the app again from the EHR."))
    return answer


def _assertion_auth(smart, token_endpoint):
    """SMART's private_key_jwt (Authlib's): a JWT signed with the host app's key, iss = sub = client_id,
    aud = the token endpoint, a fresh jti, and five minutes of life; None for a secret or a public client."""
    if not smart.jwks_private_key:
        return None
    key = jwk.import_key(json.loads(smart.jwks_private_key))
    assertion = PrivateKeyJWT(token_endpoint, claims={"exp": int(time.time()) + ASSERTION_SECONDS},
                              headers={"kid": key.kid, "typ": "JWT"}, alg=key.alg)
    return OAuth2ClientAuth(smart.client_id, key, auth_method=assertion)


def _fhir_user(host_app, started, answer):
    """The user the EHR signed in: the fhirUser of its id_token, verified against its JWKS (iss, aud, exp).

    Without an id_token, the token response's own `fhirUser` (not standard, but some EHRs send it).
    """
    id_token = answer.get("id_token")
    if id_token is None:
        return answer.get("fhirUser")
    refused = Refused(400, _("The EHR's sign-in could not be verified; launch the app again from the EHR."))
    if not isinstance(id_token, str) or "jwks" not in started.endpoints:
        raise refused
    status, found = _fetch("GET", started.endpoints["jwks"])
    if status != 200:
        raise refused
    expected = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": started.endpoints.get("issuer", started.issuer)},
        aud={"essential": True, "value": host_app.smart.client_id}, exp={"essential": True}, sub={"essential": True})
    try:
        claims = jwt.decode(id_token, jwk.KeySet.import_key_set(found), algorithms=ID_TOKEN_ALGORITHMS).claims
        expected.validate(claims)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        current_app.logger.warning("SMART: id_token from %s refused: %s", started.issuer, type(error).__name__)
        raise refused from None
    return claims.get("fhirUser")


@bp.get("/smart/<host_app_id>/jwks.json")
@cacheable
def jwks(host_app_id):
    """The public key of a host app's client assertions, for the EHR that registered it (private_key_jwt)."""
    host_app = host_apps.by_id(host_app_id)
    if host_app is None or host_app.smart is None or not host_app.smart.jwks_private_key:
        abort(404)
    key = jwk.import_key(json.loads(host_app.smart.jwks_private_key))
    public = key.as_dict(private=False) | {"kid": key.kid, "alg": key.alg, "use": "sig"}
    return {"keys": [public]}, 200, {"Cache-Control": "public, max-age=300"}  # the EHR may keep it a while


def _ehr_origin(host_app, answer):
    """The page that frames the widget: the EHR's messaging origin, else the host app's only origin."""
    origin = answer.get("smart_web_messaging_origin")
    if origin is None and len(host_app.origins) == 1:
        origin = host_app.origins[0]
    if origin not in host_app.origins:
        raise Refused(400, _("This EHR is not registered to launch Osigu's widgets."))
    return origin


def _context(host_app, started, answer):
    """The widget's session context from the launch: the patient found at Osigu, the host's FHIR references."""
    context = {}
    fhir = {}
    if isinstance(answer.get("patient"), str):
        fhir["patient"] = f"Patient/{answer['patient']}"
    if isinstance(answer.get("encounter"), str):
        fhir["encounter"] = f"Encounter/{answer['encounter']}"
    if started.widget == "preauth" and isinstance(answer.get("appContext"), str):
        context |= _app_context(answer["appContext"])
    if fhir:
        context["fhir"] = fhir
    if "patient" in fhir and started.widget == "prescription":
        context["patient"] = _osigu_patient(host_app, started, answer)
    try:
        return contexts.validate(started.widget, context)
    except ValidationError:
        raise Refused(400, _("The EHR's launch context cannot be used by this widget.")) from None


def _app_context(raw):
    """The preauth context a CDS Hooks card put in its SMART link (sponsor, products, assertion id)."""
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _osigu_patient(host_app, started, answer):
    """Osigu's patient for the EHR's Patient, by its identifier in the host app's system; else its document.

    A document Osigu does not know yet is passed on: the prescription widget offers to register it.
    """
    status, patient = _fetch("GET", f"{started.issuer}/Patient/{answer['patient']}", token=answer["access_token"])
    identifier = next((item for item in (patient.get("identifier") or [] if isinstance(patient, dict) else [])
                       if isinstance(item, dict) and item.get("system") == host_app.smart.identifier_system), None)
    if status != 200 or identifier is None or not isinstance(identifier.get("value"), str):
        raise Refused(404, _("The EHR's patient has no document Osigu can find them by."))
    document = {"document_number": identifier["value"]}
    codes = [coding.get("code") for coding in (identifier.get("type") or {}).get("coding") or []
             if isinstance(coding, dict)]
    document_type = next((code for code in codes if code in contexts.DOCUMENT_TYPES), None)
    if document_type:
        document["document_type"] = document_type
    try:
        found = host_apps.upstream_for(host_app).get_json("/ehr/v1/patients", **document)["data"]
    except (UpstreamError, KeyError, TypeError):
        return document  # the widget looks the patient up again, and says what went wrong
    return {"patient_id": found[0]["patient_id"]} if len(found) == 1 else document
