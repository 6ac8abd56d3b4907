"""A pack's GS1 DataMatrix as a scanner types it: GTIN (01), expiry (17), lot (10), serial (21), read by biip.

Scanners send the element string with GS (\\x1d) as the FNC1 separator and, when so configured, the `]d2`
symbology identifier first; a human may type the printed form `(01)…(17)…(10)…`.
"""

from dataclasses import dataclass
from datetime import date

from biip import ParseError, parse
from biip.gs1_messages import GS1Message
from flask_babel import gettext as _

MAX_SCAN = 200  # (01)+14, (17)+6, (10)+20, (21)+20 and separators fit well within it


class Unreadable(Exception):
    """A scan that names no pack, with what the pharmacist reads."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Pack:
    gtin: str
    expiry: date | None
    lot: str | None
    serial: str | None


def read_pack(text):
    """The pack a scan names; raises Unreadable for anything else (a QR code, a half scan, a price label)."""
    text = text.strip("\r\n ")
    if not text or len(text) > MAX_SCAN:
        raise Unreadable(_("Scan the DataMatrix on the pack into this field."))
    try:
        message = GS1Message.parse_hri(text) if text.startswith("(") else parse(text).gs1_message
    except ParseError:
        message = None
    if message is None:
        raise Unreadable(_("This is not a GS1 pack code. Scan the DataMatrix on the box."))
    fields = {element.ai.ai: element for element in message.element_strings}
    if "01" not in fields:
        raise Unreadable(_("The scan has no product number (GTIN). Scan the DataMatrix on the box."))
    expiry = fields.get("17")
    return Pack(gtin=fields["01"].value, expiry=expiry.date if expiry else None,
                lot=fields["10"].value if "10" in fields else None,
                serial=fields["21"].value if "21" in fields else None)
