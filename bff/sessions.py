"""Widget sessions: a host app's back end vouches for its user; the widget then acts within that session."""

import functools
import json
import secrets
from datetime import timedelta
from typing import Literal

from flask import Blueprint, current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import host_apps
from .db import WidgetSession, aware, db, utcnow
from .errors import ApiError

bp = Blueprint("sessions", __name__)

WIDGETS = ("prescription", "dispensing", "preauth")
HEADER = "X-Osigu-Session"  # a header, never a query string or a cookie (cross-site iframes drop cookies)
MAX_CONTEXT_BYTES = 4096


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=50)


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
    widget: Literal["prescription", "dispensing", "preauth"]
    origin: str = Field(min_length=1, max_length=300)
    locale: Literal["es", "en"] = "es"
    user: User
    context: dict = Field(default_factory=dict)
    theme: Theme = Field(default_factory=Theme)

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
        body = NewSession.model_validate(request.get_json(silent=True) or {})
    except ValidationError as error:
        raise _validation_error(error) from None
    if body.origin not in host_app.origins:
        raise ApiError(422, "BFF-ORIGIN", f"{body.origin} is not one of this host app's registered origins.",
                       [{"field": "origin", "issue": "not registered for this host app"}])
    ttl = current_app.config["SESSION_TTL_SECONDS"]
    session = WidgetSession(
        id=secrets.token_urlsafe(24), host_app_id=host_app.id, widget=body.widget, origin=body.origin,
        locale=body.locale, user=body.user.model_dump(), context=body.context,
        theme=body.theme.model_dump(exclude_none=True), expires_at=utcnow() + timedelta(seconds=ttl),
    )
    db.session.add(session)
    db.session.commit()
    token = _serializer().dumps({"sid": session.id, "app": host_app.id, "widget": body.widget})
    expires_at = aware(session.expires_at).isoformat().replace("+00:00", "Z")
    return {"token": token, "expires_at": expires_at, "widget": body.widget}, 201


def load_session(token, widget):
    """Verify a session token for widget and return its session; 401 when invalid or expired."""
    try:
        claims = _serializer().loads(token, max_age=current_app.config["SESSION_TTL_SECONDS"])
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
    return session


def session_from_header(widget):
    """Load the session for widget named by this request's session header; 401 when there is none."""
    token = request.headers.get(HEADER)
    if not token:
        raise ApiError(401, "SESSION_MISSING", f"Send the widget session in the {HEADER} header.")
    return load_session(token, widget)


def require_widget_session(widget):
    """Decorate a widget view: it runs only with a valid session for widget, sent in the session header."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.widget_session = session_from_header(widget)
            return view(*args, **kwargs)

        return wrapper

    return decorator

