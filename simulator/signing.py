"""The v2 (Spain) signed hash: SHA-256 over RFC 8785 canonical JSON of a prescription's immutable fields.

The contract, for whoever signs: build the object returned by ``immutable_fields``, serialise it with
RFC 8785 (JSON Canonicalization Scheme), take SHA-256, and sign that digest with ECDSA P-256
(DER signature). Send ``{"algorithm": ALGORITHM, "hash": b64url(digest), "signature": b64url(der)}``.
"""

import base64
import hashlib

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

ALGORITHM = "ECDSA-P256-SHA256"


def immutable_fields(body):
    """Pick the fields a certified prescription may never change after signing."""
    return {
        "national_repository_id": body["national_repository_id"],
        "patient_id": body["patient_id"],
        "doctor_id": body.get("doctor_id"),
        "diagnoses": [d["diagnosis_code"] for d in body["diagnoses"]],
        "medications": [
            {
                "product_code": m["product_code"],
                "quantity": m["quantity"],
                "posology": m["posology"],
                "duration_days": m.get("duration_days"),
            }
            for m in body["medications"]
        ],
    }


def b64url(raw):
    """Encode bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text):
    """Decode unpadded base64url; raise ValueError on anything else."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_digest(body):
    """Return the SHA-256 digest of the canonical immutable fields."""
    return hashlib.sha256(rfc8785.dumps(immutable_fields(body))).digest()


def sign(private_key_pem, body):
    """Make the signed_hash object for body (used by the sandbox docs and tests; the BFF has its own)."""
    digest = canonical_digest(body)
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    signature = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    return {"algorithm": ALGORITHM, "hash": b64url(digest), "signature": b64url(signature)}


def signature_is_valid(public_key_pem, digest, signature_b64):
    """Tell whether signature_b64 is the key holder's ECDSA signature of digest."""
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        key.verify(b64url_decode(signature_b64), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
