"""An EHR's side of CDS Hooks, for the tests that call the coverage service as one (interop/, the schemathesis run)."""

import time
import uuid

from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey

EHR_ISSUER = "https://ehr.example.org/cds-client"


class Ehr:
    """The EHR's side of CDS Hooks: its signing key, served as a JWKS, and the JWTs it signs."""

    def __init__(self):
        self.key = ECKey.generate_key("P-384", parameters={"kid": "ehr-1"}, private=True)
        self.app = Flask("ehr-jwks")
        self.app.add_url_rule("/jwks", "jwks", lambda: {"keys": [self.key.as_dict(private=False)]})

    def token(self, audience, issuer=EHR_ISSUER, key=None, expires_in=300, **changes):
        """A JWT for one call; changes replace claims (None leaves one out)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "iat": now, "exp": now + expires_in, "jti": str(uuid.uuid4())}
        claims = {name: value for name, value in (claims | changes).items() if value is not None}
        return jwt.encode({"alg": "ES384", "typ": "JWT", "kid": "ehr-1"}, claims, key or self.key,
                          algorithms=["ES384"])
