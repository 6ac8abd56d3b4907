"""Widget sessions: a host app's back end vouches for its user; the widget then acts within that session."""

import json
import secrets
from datetime import timedelta
from typing import Literal

from flask import Blueprint, current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import contexts, host_apps
from .bodies import request_json
from .db import SessionObject, WidgetSession, aware, db, utcnow
from .errors import ApiError
from .i18n import valid_timezone

bp = Blueprint("sessions", __name__)

WIDGETS = ("prescription", "dispensing", "preauth")
HEADER = "X-Osigu-Session"  # a header, never a query string or a cookie (cross-site iframes drop cookies)
PREVIOUS_HEADER = "X-Osigu-Previous-Session"  # the expired token a renewed session proves its continuity with
MAX_CONTEXT_BYTES = 4096


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=50)
    # The hospital-pharmacy API's grants (DESIGN.md); absent: by role.
    permissions: list[Literal["DISPENSING:READ", "DISPENSING:CREATE", "DISPENSING:UPDATE"]] | None = \
        Field(default=None, max_length=3)


class Theme(BaseModel):
    """The documented theme variables; anything else could inject CSS, so it is refused."""

    model_config = ConfigDict(extra="forbid")
    primary_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    text_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    background_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    font_family: str | None = Field(default=None, pattern=r"^[A-Za-z0-9 ,'-]{1,100}$")
    radius: str | None = Field(default=None, pattern=r"^\d{1,2}(px|rem)$")


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    widget: Literal[WIDGETS]
    origin: str = Field(min_length=1, max_length=300)
    locale: Literal["es", "en", "pt"] = "es"
    user: User
    context: dict = Field(default_factory=dict)
    theme: Theme = Field(default_factory=Theme)
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value):
        if value is not None and not valid_timezone(value):
            raise ValueError("must be an IANA time zone name such as 'America/Bogota'")
        return value

    @field_validator("context")
    @classmethod
    def _small_context(cls, value):
        if len(json.dumps(value)) > MAX_CONTEXT_BYTES:
            raise ValueError(f"context must be at most {MAX_CONTEXT_BYTES} bytes of JSON")
        return value


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="osigu-widget-session")


def _validation_error(error):
    return ApiError(422, "BFF-422", "The session request is not valid.", [
        {"field": ".".join(str(p) for p in item["loc"]) or "body", "issue": item["msg"]}
        for item in error.errors(include_url=False)
    ])


@bp.post("/v1/widget-sessions")
def create_session():
    """Create a short-lived widget session for one user of the calling host app (server to server)."""
    host_app = host_apps.authenticate()
    try:
        body = NewSession.model_validate(request_json())
        context = contexts.validate(body.widget, body.context)
    except ValidationError as error:
        raise _validation_error(error) from None
    if body.origin not in host_app.origins:
        raise ApiError(422, "BFF-ORIGIN", f"{body.origin} is not one of this host app's registered origins.",
                       [{"field": "origin", "issue": "not registered for this host app"}])
    session, token = mint(host_app, body.widget, body.origin, body.locale, body.user.model_dump(exclude_none=True),
                          context, body.theme.model_dump(exclude_none=True), body.timezone)
    expires_at = aware(session.expires_at).isoformat().replace("+00:00", "Z")
    return {"token": token, "expires_at": expires_at, "widget": body.widget}, 201


def mint(host_app, widget, origin, locale, user, context, theme=None, timezone=None):
    """Store a new widget session for checked values and return (session, its token)."""
    ttl = current_app.config["SESSION_TTL_SECONDS"]
    session = WidgetSession(
        id=secrets.token_urlsafe(24), host_app_id=host_app.id, widget=widget, origin=origin, locale=locale,
        user=user, context=context, theme=theme or {}, expires_at=utcnow() + timedelta(seconds=ttl),
        flow_id=secrets.token_urlsafe(24), timezone=timezone,
    )
    db.session.add(session)
    db.session.commit()
    return session, _serializer().dumps({"sid": session.id, "app": host_app.id, "widget": widget})


def load_session(token, widget):
    """Verify a session token for widget and return its session, moving its idle expiry on; 401 when invalid."""
    config = current_app.config
    try:
        claims = _serializer().loads(token, max_age=config["SESSION_MAX_SECONDS"])
    except SignatureExpired:
        raise ApiError(401, "SESSION_EXPIRED", "The widget session has expired.") from None
    except BadSignature:
        raise ApiError(401, "SESSION_INVALID", "The widget session token is not valid.") from None
    session = db.session.get(WidgetSession, claims.get("sid"))
    if session is None or session.host_app_id != claims.get("app") or host_apps.by_id(session.host_app_id) is None:
        raise ApiError(401, "SESSION_INVALID", "The widget session token is not valid.")
    if aware(session.expires_at) <= utcnow():
        raise ApiError(401, "SESSION_EXPIRED", "The widget session has expired.")
    if session.widget != widget:
        raise ApiError(403, "SESSION_WRONG_WIDGET", f"This session is for the {session.widget} widget.")
    _extend(session)
    return session


def _extend(session):
    """Sliding expiry: activity keeps a session alive for another idle period, up to its absolute limit."""
    config = current_app.config
    limit = aware(session.created_at) + timedelta(seconds=config["SESSION_MAX_SECONDS"])
    extended = min(utcnow() + timedelta(seconds=config["SESSION_TTL_SECONDS"]), limit)
    # Written only when it moves noticeably, so a burst of searches is not a burst of writes.
    if extended - aware(session.expires_at) > timedelta(seconds=config["SESSION_TTL_SECONDS"] / 20):
        session.expires_at = extended
        db.session.commit()


def seconds_left(session):
    """How long session lives without another request, in whole seconds."""
    return max(0, int((aware(session.expires_at) - utcnow()).total_seconds()))


def carry_over(session, previous_token):
    """Let session continue the work of the session previous_token names, when the token proves it may.

    The previous token must carry the BFF's signature (its age checked against the absolute limit
    plus the grace period, not the idle expiry) and name a session of the same host app, widget,
    origin and user that expired at most the grace period ago and was not taken over by another.
    Anything else leaves session on its own, fresh work: no id a browser could guess is trusted.
    """
    previous = _previous_session(session, previous_token)
    if previous is not None and previous.renewed_to == session.id:
        return  # a repeated or concurrent first request after the same renewal
    if previous is None or previous.renewed_to is not None:
        current_app.logger.warning("A renewed widget session did not prove it continues another; it starts afresh.")
        return
    previous.renewed_to = session.id
    previous.expires_at = min(aware(previous.expires_at), utcnow())  # one session at a time works on a draft
    take_over(session, [previous.id], previous.flow_id)


def resume_flow(session, flow_id):
    """Make session carry on flow_id, which its widget found for the same user (a reload of the host page).

    The flow's other sessions end, so that one session at a time works on a draft.
    """
    others = db.session.scalars(db.select(WidgetSession).filter(WidgetSession.flow_id == flow_id,
                                                                WidgetSession.id != session.id)).all()
    for other in others:
        other.renewed_to = other.renewed_to or session.id
        other.expires_at = min(aware(other.expires_at), utcnow())
    take_over(session, [other.id for other in others], flow_id)


def take_over(session, session_ids, flow_id):
    """Make session carry on flow_id and own what those sessions created; the caller has checked it may."""
    session.flow_id = flow_id
    db.session.execute(db.update(SessionObject).where(SessionObject.session_id.in_(session_ids))
                       .values(session_id=session.id))
    db.session.commit()


def _previous_session(session, previous_token):
    """The session previous_token names, if session may continue it (same host app, widget, origin, user)."""
    config = current_app.config
    try:
        claims = _serializer().loads(previous_token,
                                     max_age=config["SESSION_MAX_SECONDS"] + config["SESSION_RENEWAL_GRACE_SECONDS"])
    except BadSignature:  # SignatureExpired included: older than any session's continuation could be
        return None
    previous = db.session.get(WidgetSession, claims.get("sid"))
    grace = timedelta(seconds=config["SESSION_RENEWAL_GRACE_SECONDS"])
    if previous is None or previous.id == session.id or aware(previous.expires_at) + grace < utcnow():
        return None
    same = (previous.host_app_id, previous.widget, previous.origin, previous.user.get("id"))
    return previous if same == (session.host_app_id, session.widget, session.origin, session.user.get("id")) else None


def session_from_header(widget):
    """Load the session for widget named by this request's session header; 401 when there is none."""
    token = request.headers.get(HEADER)
    if not token:
        raise ApiError(401, "SESSION_MISSING", f"Send the widget session in the {HEADER} header.")
    session = load_session(token, widget)
    if request.headers.get(PREVIOUS_HEADER):
        carry_over(session, request.headers[PREVIOUS_HEADER])
    return session

