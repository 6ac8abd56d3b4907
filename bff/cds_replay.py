"""A CDS Hooks JWT is single-use: each (issuer, jti) is spent once, remembered until the token expires.

CDS Hooks expects a short-lived token (about 5 minutes) and a service that refuses a replayed `jti`.
The spent ids are rows of the database, so a replay is refused by whichever replica it reaches;
the primary key makes two simultaneous uses of one token a single winner. The retention purge
(bff/retention.py) deletes the rows whose token has expired, since such a token is refused anyway.
"""

import hashlib
from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .db import db

MAX_LIFETIME_SECONDS = 300  # CDS Hooks: the EHR's JWT lives about 5 minutes
CLOCK_SKEW_SECONDS = 60  # the EHR's clock and ours may be this far apart (iat, exp)
MAX_JTI = 256


class SpentToken(db.Model):
    """A CDS Hooks JWT already used: its issuer and jti (hashed together) and when it expires."""

    __tablename__ = "bff_cds_spent_token"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def lifetime_problem(claims, now):
    """Why the token's exp and jti cannot be accepted (exp too far ahead, jti not a short string), or None."""
    if not isinstance(claims.get("jti"), str) or not 0 < len(claims["jti"]) <= MAX_JTI:
        return f"its jti must be a string of 1 to {MAX_JTI} characters"
    if claims["exp"] > now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        return f"it expires more than {MAX_LIFETIME_SECONDS} s from now; sign each call with a short-lived token"
    return None


def spend(issuer, claims):
    """Record the token as used, until it is refused as expired; False when it was used before (a replay)."""
    key = hashlib.sha256(f"{issuer}\0{claims['jti']}".encode()).hexdigest()
    refused_from = datetime.fromtimestamp(claims["exp"] + CLOCK_SKEW_SECONDS, UTC)  # the expiry check's leeway
    db.session.add(SpentToken(id=key, expires_at=refused_from))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True
