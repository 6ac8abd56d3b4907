"""The sandbox's stand-in for SMS and e-mail: messages land in an outbox a person or test can read."""

from .db import db, new_id
from .models import SandboxMessage


def send(channel, recipient, subject, body, kind, reference=None, otp_code=None, link=None):
    """Record a message as sent; the caller commits."""
    message = SandboxMessage(
        id=new_id("msg"), channel=channel, recipient=recipient, subject=subject, body=body,
        kind=kind, reference=reference, otp_code=otp_code, link=link,
    )
    db.session.add(message)
    return message


def mask(recipient):
    """Show enough of an address or phone number to recognise it, not to read it."""
    if "@" in recipient:
        name, domain = recipient.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return f"{recipient[:3]}*****{recipient[-2:]}"
