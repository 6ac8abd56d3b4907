"""The BFF signs v2 prescriptions exactly as Osigu's published contract (the simulator's check) verifies them."""

from cryptography.hazmat.primitives import serialization

from bff.config import DEMO_SIGNING_KEY
from simulator import signing as osigu_side
from widgets.prescription import signing

BODY = {
    "patient_id": "pat_1", "doctor_id": "dr-7", "national_repository_id": "ES-RNR-0000001",
    "diagnoses": [{"diagnosis_code": "R51"}],
    "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 comprimido cada 8 horas durante 10 días",
                     "duration_days": 10, "substitution_allowed": False}],
}


def public_pem():
    key = serialization.load_pem_private_key(DEMO_SIGNING_KEY.read_bytes(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_the_signature_verifies_against_the_canonical_digest():
    signed = signing.signed_hash(str(DEMO_SIGNING_KEY), BODY)
    digest = osigu_side.canonical_digest(BODY)
    assert signed["hash"] == osigu_side.b64url(digest)
    assert osigu_side.signature_is_valid(public_pem(), digest, signed["signature"])


def test_signing_is_deterministic_so_a_retry_is_byte_identical():
    assert signing.signed_hash(str(DEMO_SIGNING_KEY), BODY) == signing.signed_hash(str(DEMO_SIGNING_KEY), BODY)


def test_a_changed_field_changes_the_hash():
    changed = BODY | {"patient_id": "pat_2"}
    assert signing.signed_hash(str(DEMO_SIGNING_KEY), changed)["hash"] != signing.signed_hash(
        str(DEMO_SIGNING_KEY), BODY)["hash"]
