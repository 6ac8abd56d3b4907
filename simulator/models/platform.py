"""Providers, their OAuth clients and tokens, and stored idempotent responses."""

from authlib.integrations.sqla_oauth2 import OAuth2ClientMixin, OAuth2TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow


class Provider(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    # Spain's e-prescription certification (v2): issued id and the key its signed hashes verify against.
    national_repository_id: Mapped[str | None] = mapped_column(String(80))
    signing_public_key: Mapped[str | None] = mapped_column(Text)


class OAuthClient(db.Model, OAuth2ClientMixin):
    __tablename__ = "oauth_client"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    provider: Mapped[Provider] = relationship()

    def check_endpoint_auth_method(self, method, endpoint):
        """Accept the secret in the Basic header or in the form body, as Osigu does."""
        return method in ("client_secret_basic", "client_secret_post")

    def get_allowed_scope(self, scope):
        """Grant every scope the client holds when it asks for none, else the ones it may have."""
        allowed = scope_to_list(self.scope)
        if not scope:
            return list_to_scope(allowed)
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])


class OAuthToken(db.Model, OAuth2TokenMixin):
    __tablename__ = "oauth_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(48), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    provider: Mapped[Provider] = relationship()


class IdempotencyRecord(db.Model):
    """A state-changing request's response, replayed when the same Idempotency-Key comes back."""

    __table_args__ = (UniqueConstraint("client_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    body: Mapped[dict | list | None] = mapped_column(JSON)
    created_at = mapped_column(db.DateTime(timezone=True), default=utcnow)
