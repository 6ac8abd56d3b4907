"""The example EHR's authorization server, on Authlib: SMART's authorization code grant with PKCE S256 and OpenID.

One client, the BFF (`osigu-widgets`), authenticated as it registered: public (PKCE only), a client secret
(`client_secret_basic`/`_post`), or signed assertions (`private_key_jwt`, RS384/ES384, checked against the
JWKS the BFF publishes). The token response carries the launch context (patient, encounter, the SMART Web
Messaging handle and origin, a CDS card's appContext) and an id_token naming the doctor (`fhirUser`).
"""

import hmac
import threading
import time
from dataclasses import dataclass, field

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

CLIENT_ID = "osigu-widgets"
SCOPES = ("launch", "openid", "fhirUser", "patient/Patient.read")
ASSERTION_ALGORITHMS = ["RS384", "ES384"]  # what SMART's asymmetric client authentication allows
ASSERTION_MAX_SECONDS = 300  # SMART: a client assertion expires at most five minutes after it is made
CODE_SECONDS = 60


@dataclass
class Client(ClientMixin):
    """The BFF as this EHR registered it: its redirect URI and how it proves who it is at the token endpoint."""

    redirect_uri: str
    secret: str | None = None
    jwks_url: str | None = None  # where the BFF publishes the public keys of its client assertions

    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return self.redirect_uri

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret):
        return isinstance(client_secret, str) and self.secret is not None and hmac.compare_digest(
            client_secret, self.secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.jwks_url:
            return method == "private_key_jwt"
        return method in ("client_secret_basic", "client_secret_post") if self.secret else method == "none"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An authorization code and what it was issued for: the doctor, the scope, the PKCE challenge, the launch."""

    redirect_uri: str
    scope: str
    code_challenge: str
    context: dict
    user: dict
    code_challenge_method: str = "S256"
    expires: float = field(default_factory=lambda: time.monotonic() + CODE_SECONDS)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return None

    def get_auth_time(self):
        return None

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class SmartCodeGrant(AuthorizationCodeGrant):
    """The authorization code grant, its codes kept in memory and each used once."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

    def save_authorization_code(self, code, oauth_request):
        server = self.server
        with server.lock:
            context = server.launches.pop(oauth_request.payload.data["launch"])
            server.codes[code] = Code(oauth_request.payload.redirect_uri, oauth_request.scope,
                                      oauth_request.payload.data["code_challenge"], context, oauth_request.user)

    def query_authorization_code(self, code, client):
        with self.server.lock:
            found = self.server.codes.pop(code, None)  # taken at once: a replayed code finds nothing
        return found if found and found.expires > time.monotonic() else None

    def delete_authorization_code(self, authorization_code):
        """Nothing left to delete: the code was taken when it was looked up."""

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class SmartLaunch:
    """SMART on top of the grant: a launch this EHR started, aud = its FHIR server, S256; the context back."""

    def __call__(self, grant):
        grant.register_hook("after_validate_authorization_request_payload", self.check_launch)
        grant.register_hook("after_create_token_response", self.add_context)

    def check_launch(self, grant, redirect_uri):
        data = grant.request.payload.data
        with grant.server.lock:
            known = data.get("launch") in grant.server.launches
        if not known or data.get("aud") != grant.server.issuer():
            raise InvalidRequestError("An unknown launch, or an aud that is not this FHIR server.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("SMART needs PKCE with S256.")

    def add_context(self, grant, response):
        _status, token, _headers = response
        context = grant.request.authorization_code.context
        token.update({key: context[key] for key in ("patient", "encounter", "appContext") if key in context})
        token.update({"need_patient_banner": False, "smart_web_messaging_handle": context["handle"],
                      "smart_web_messaging_origin": request.url_root.rstrip("/")})


class IdToken(OpenIDCode):
    """The id_token of an `openid fhirUser` launch: the doctor, signed RS256 with the EHR's key (in /jwks)."""

    def __init__(self, server):
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce, oauth_request):
        return False  # the BFF sends no nonce: PKCE already binds the code to its exchange

    def resolve_client_private_key(self, client):
        return self.server.config["ID_TOKEN_KEY"]

    def get_client_algorithm(self, client):
        return "RS256"  # the id_token algorithm SMART asks every EHR to support

    def get_encode_header(self, client):
        return {"alg": "RS256", "typ": "JWT", "kid": self.server.config["ID_TOKEN_KEY"].kid}

    def get_client_claims(self, client):
        now = int(time.time())
        claims = {"iss": self.server.issuer(), "aud": client.get_client_id(), "iat": now, "exp": now + 300}
        return claims | self.server.config["ID_TOKEN_CLAIMS"]

    def generate_user_info(self, user, scope):
        return UserInfo(sub=user["id"], name=user["name"], fhirUser=f"{self.server.issuer()}/{user['id']}")


class PrivateKeyJwt(JWTBearerClientAssertion):
    """SMART's asymmetric client authentication: an RS384/ES384 assertion checked against the client's JWKS."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server):
        super().__init__(leeway=30)
        self.server = server

    def get_audiences(self):
        return [request.base_url]  # this token endpoint

    def validate_jti(self, claims, jti):
        """Each assertion is taken once (until it expires, when its exp refuses it anyway)."""
        now = time.time()
        with self.server.lock:
            for old in [seen for seen, expires in self.server.jtis.items() if expires < now]:
                del self.server.jtis[old]
            if jti in self.server.jtis:
                return False
            self.server.jtis[jti] = claims["exp"]
        return True

    def resolve_client_public_key(self, client):
        return KeySet.import_key_set(requests.get(client.jwks_url, timeout=10).json())

    def process_assertion_claims(self, assertion, resolve_key):
        # Authlib's default algorithms stop at RS256/ES256: SMART's are RS384/ES384, and only those.
        try:
            claims = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS).claims
        except (JoseError, ValueError) as error:
            raise InvalidClientError(description=f"Bad client assertion: {error}") from None
        if not isinstance(claims.get("exp"), int) or claims["exp"] > time.time() + ASSERTION_MAX_SECONDS + self.leeway:
            raise InvalidClientError(description="A client assertion lives five minutes at most.")
        self.verify_claims(claims)
        return claims


class EhrAuthorizationServer(AuthorizationServer):
    """Authlib's server for the one client, with what it keeps in memory (a demo, restarted with the others)."""

    def __init__(self, app):
        app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": 300})
        self.config = app.config
        self.lock = threading.Lock()
        self.launches, self.codes, self.tokens, self.jtis = {}, {}, {}, {}
        super().__init__(app)
        self.register_grant(SmartCodeGrant, [CodeChallenge(required=True), SmartLaunch(), IdToken(self)])
        self.register_client_auth_method("private_key_jwt", PrivateKeyJwt(self))

    @staticmethod
    def issuer():
        """This EHR's FHIR base URL as the browser or the BFF reached it: the launch's iss and the id_token's."""
        return request.url_root + "fhir"

    def query_client(self, client_id):
        config = self.config
        if client_id != CLIENT_ID:
            return None
        return Client(f"{config['BFF_URL']}/smart/callback", config["CLIENT_SECRET"], config["CLIENT_JWKS_URL"])

    def save_token(self, token, oauth_request):
        with self.lock:
            self.tokens[token["access_token"]] = oauth_request.authorization_code.context["patient"]

    def patient_for(self, access_token):
        """The patient an access token was issued for, or None."""
        with self.lock:
            return self.tokens.get(access_token)
