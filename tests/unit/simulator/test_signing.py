"""The v2 signed-hash contract: canonical, tamper-evident, verifiable only with the right key."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from simulator import signing

BODY = {
    "national_repository_id": "ES-RNR-0000001",
    "patient_id": "pat_1",
    "diagnoses": [{"diagnosis_code": "R51"}],
    "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8h"}],
}


def key_pair():
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def test_digest_ignores_key_order_and_mutable_fields():
    reordered = dict(reversed(list(BODY.items()))) | {"provider_branch_id": "branch-7"}
    assert signing.canonical_digest(reordered) == signing.canonical_digest(BODY)


def test_digest_changes_when_an_immutable_field_changes():
    changed = BODY | {"medications": [BODY["medications"][0] | {"quantity": 31}]}
    assert signing.canonical_digest(changed) != signing.canonical_digest(BODY)


def test_the_digest_is_sha256_of_rfc8785_json():
    # Pinned so both sides of the contract (the BFF signs, Osigu verifies) can check themselves.
    expected = ('{"diagnoses":["R51"],"doctor_id":null,"medications":[{"duration_days":null,'
                '"posology":"1 tablet every 8h","product_code":"MED-042","quantity":30}],'
                '"national_repository_id":"ES-RNR-0000001","patient_id":"pat_1"}')
    import hashlib
    assert signing.canonical_digest(BODY) == hashlib.sha256(expected.encode()).digest()


def test_signature_verifies_with_the_signers_key_only():
    private_pem, public_pem = key_pair()
    _, other_public_pem = key_pair()
    signed = signing.sign(private_pem, BODY)
    digest = signing.canonical_digest(BODY)
    assert signed["hash"] == signing.b64url(digest)
    assert signing.signature_is_valid(public_pem, digest, signed["signature"])
    assert not signing.signature_is_valid(other_public_pem, digest, signed["signature"])
    assert not signing.signature_is_valid(public_pem, digest, "not-base64url!!")
