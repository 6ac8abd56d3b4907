"""Spain's v2 signed hash, made in the BFF with the provider's own key (it never leaves the server).

The contract Osigu publishes for createPrescriptionV2: SHA-256 over the RFC 8785 canonical JSON of
the prescription's immutable fields, signed with ECDSA P-256. Signing is deterministic (RFC 6979):
the same prescription always gets the same signature, so a retried issue is byte-identical and
Osigu's idempotency key replays it instead of refusing it.
"""

import base64
import functools
import hashlib

import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

ALGORITHM = "ECDSA-P256-SHA256"


def _b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def immutable_fields(body):
    """The fields a certified prescription may never change after signing."""
    return {
        "national_repository_id": body["national_repository_id"],
        "patient_id": body["patient_id"],
        "doctor_id": body.get("doctor_id"),
        "diagnoses": [item["diagnosis_code"] for item in body["diagnoses"]],
        "medications": [
            {key: line.get(key) for key in ("product_code", "quantity", "posology", "duration_days")}
            for line in body["medications"]
        ],
    }


@functools.cache
def _private_key(path):
    with open(path, "rb") as pem:
        return serialization.load_pem_private_key(pem.read(), password=None)


def signed_hash(key_file, body):
    """Make the signed_hash object for a v2 prescription body."""
    digest = hashlib.sha256(rfc8785.dumps(immutable_fields(body))).digest()
    signature = _private_key(key_file).sign(
        digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True))
    return {"algorithm": ALGORITHM, "hash": _b64url(digest), "signature": _b64url(signature)}
