"""Which Osigu scope a proxied call needs, so a refusal for a missing scope can name it to the host app."""

import re

from .errors import ApiError

# Osigu's scopes by API family (simulator/README.md, "Demo identities"): GET reads, anything else writes,
# save the beneficiary search, a read sent as POST so identifiers stay out of URLs.
FAMILIES = (("medical-catalogs/", "catalogs"), ("arc/v1/products", "catalogs"), ("arc/v1/providers/", "providers"),
            ("arc/v1/claims", "claims"), ("v3/settlements", "claims"), ("ehr/", "ehr"), ("dispensing/", "dispensing"),
            ("arc/", "arc"))
READ_BY_POST = re.compile(r"arc/v1/sponsors/[^/]+/beneficiaries/search")
INSUFFICIENT_SCOPE = "insufficient_scope"  # RFC 6750's error, in Osigu's details.oauth_error


def required(method, path):
    """The scope an Osigu call (path without its leading slash) needs, or None for a path of no known family."""
    family = next((name for prefix, name in FAMILIES if path.startswith(prefix)), None)
    if family is None:
        return None
    return f"{family}:{'read' if method == 'GET' or READ_BY_POST.fullmatch(path) else 'write'}"


def refusal(error, client, method, path):
    """A 403 naming the missing scope when Osigu refused the tenant's token for lacking it; else None.

    The tenant's token says what it was granted; when it does not, Osigu's refusal must say insufficient_scope.
    Other refusals (401, a 403 for something else) stay the BFF's problem, answered as before.
    """
    needed = required(method, path)
    if error.status != 403 or needed is None:
        return None
    granted = client.granted_scopes
    said = isinstance(error.details, dict) and error.details.get("oauth_error") == INSUFFICIENT_SCOPE
    if needed in granted or not (granted or said):
        return None
    return ApiError(403, error.error_code,
                    f"Osigu refused this call: the Osigu credentials this host app uses lack the scope {needed}. "
                    "Ask Osigu to grant it to them, or make this call from a host app whose credentials have it.",
                    {"required_scope": needed})
