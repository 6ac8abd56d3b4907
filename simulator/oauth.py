"""OAuth 2.0 client credentials on Authlib's authorization server, and the guard on every API."""

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.integrations.sqla_oauth2 import create_bearer_token_validator, create_query_client_func
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Blueprint, request

from . import errors
from .db import db
from .models import OAuthClient, OAuthToken

bp = Blueprint("oauth", __name__)

TOKEN_LIFETIME_SECONDS = 3600


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # Authlib allows only Basic by default; Osigu's clients may also post the secret in the body.
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class ProviderTokenGenerator(BearerTokenGenerator):
    """Bearer tokens that also tell the client which provider it acts as (the provider_slug extension)."""

    def generate(self, grant_type, client, *args, **kwargs):
        token = super().generate(grant_type, client, *args, **kwargs)
        token["provider_slug"] = client.provider.slug
        return token


class OsiguAuthorizationServer(AuthorizationServer):
    def create_bearer_token_generator(self, config):
        generator = super().create_bearer_token_generator(config)
        return ProviderTokenGenerator(
            generator.access_token_generator, generator.refresh_token_generator, generator.expires_generator
        )

    def handle_response(self, status_code, payload, headers):
        # Keep RFC 6749's error fields for OAuth clients, and add the simulator's one error shape.
        if isinstance(payload, dict) and "error" in payload:
            payload = payload | {
                "error_code": errors.UNAUTHORIZED if status_code == 401 else errors.BAD_REQUEST,
                "message": payload.get("error_description") or payload["error"].replace("_", " ").capitalize(),
            }
        return super().handle_response(status_code, payload, headers)


class OsiguResourceProtector(ResourceProtector):
    def raise_error_response(self, error):
        """Report a refused token in the one error shape, keeping the WWW-Authenticate challenge."""
        status = error.status_code
        code = errors.FORBIDDEN if status == 403 else errors.UNAUTHORIZED
        body = dict(error.get_body())
        if status == 403:
            message = "The access token lacks the scope this operation needs."
        elif error.error == "missing_authorization":
            message = "Send an access token: 'Authorization: Bearer <token>'."
        else:
            message = "The access token is invalid or has expired; request a new one."
        raise errors.ApiError(status, code, message, {"oauth_error": body.get("error")}, dict(error.get_headers()))


def _save_token(token, request):
    """Store an issued token, remembering the provider it acts for."""
    client = request.client
    fields = {key: token[key] for key in ("token_type", "access_token", "scope", "expires_in")}
    db.session.add(OAuthToken(client_id=client.client_id, provider_id=client.provider_id, **fields))
    db.session.commit()


authorization = OsiguAuthorizationServer()
require_oauth = OsiguResourceProtector()


def init_oauth(app):
    """Wire the token endpoint and the bearer-token validator to the database."""
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"client_credentials": TOKEN_LIFETIME_SECONDS})
    authorization.init_app(app, query_client=create_query_client_func(db.session, OAuthClient), save_token=_save_token)
    authorization.register_grant(ClientCredentialsGrant)
    require_oauth.register_token_validator(create_bearer_token_validator(db.session, OAuthToken)())
    app.register_blueprint(bp)


@bp.post("/v1/oauth/token")
def issue_token():
    """Exchange client credentials for a one-hour bearer token."""
    return authorization.create_token_response()


def current_provider():
    """Return the provider the request's token acts for (never taken from the body)."""
    return current_token.provider


def current_client_id():
    """Return the OAuth client id behind the request's token."""
    return current_token.client_id



def rate_limit_key():
    """Key rate limits by OAuth client, so one provider's burst never throttles another."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = db.session.scalar(db.select(OAuthToken).filter_by(access_token=header[7:].strip()))
        if token:
            return f"client:{token.client_id}"
    return f"address:{request.remote_addr}"
