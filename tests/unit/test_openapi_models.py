"""The hand-written OpenAPI request bodies state exactly the rules of the pydantic models that validate them."""

import pytest

import simulator
from simulator.claims import NewClaim
from simulator.dispensing import StartDispensation, UpdateProducts, VoidDispensation
from simulator.faults import FaultRules
from simulator.patients import NewPatient
from simulator.preauthorizations import Indications, Initiate
from simulator.prescriptions import CancelPrescription, PrescriptionV1, PrescriptionV2, PrescriptionV11, Resend
from simulator.provider_products import Registration
from simulator.sandbox import Advance, Certification, Decision, WebhookSettings
from simulator.settlements import NewSettlement
from simulator.verification import BiometricReading, OtpAnswer

BODIES = {
    ("post", "/arc/v1/claims"): NewClaim,
    ("post", "/dispensing/v1/dispensations"): StartDispensation,
    ("put", "/dispensing/v1/dispensations/{dispensation_id}/products"): UpdateProducts,
    ("post", "/dispensing/v1/dispensations/{dispensation_id}/void"): VoidDispensation,
    ("post", "/dispensing/v1/dispensations/{dispensation_id}/otp"): OtpAnswer,
    ("post", "/dispensing/v1/dispensations/{dispensation_id}/biometric"): BiometricReading,
    ("post", "/arc/v1/preauthorizations/{preauthorization_id}/otp"): OtpAnswer,
    ("post", "/arc/v1/preauthorizations/{preauthorization_id}/biometric"): BiometricReading,
    ("put", "/sandbox/v1/faults"): FaultRules,
    ("post", "/ehr/v1/patients"): NewPatient,
    ("post", "/arc/v1/preauthorizations"): Initiate,
    ("put", "/arc/v1/preauthorizations/{preauthorization_id}/indications"): Indications,
    ("post", "/ehr/v1/prescriptions"): PrescriptionV1,
    ("post", "/ehr/v1.1/prescriptions"): PrescriptionV11,
    ("post", "/ehr/v2/prescriptions"): PrescriptionV2,
    ("post", "/ehr/v1/prescriptions/{prescription_id}/resend"): Resend,
    ("post", "/ehr/v1/prescriptions/{prescription_id}/cancel"): CancelPrescription,
    ("post", "/arc/v1/providers/products"): Registration,
    ("put", "/sandbox/v1/webhook-endpoint"): WebhookSettings,
    ("put", "/sandbox/v1/certification"): Certification,
    ("post", "/sandbox/v1/authorizations/{code}/decision"): Decision,
    ("post", "/sandbox/v1/settlements/{settlement_id}/advance"): Advance,
    ("post", "/v3/settlements"): NewSettlement,
}
# The sponsor's configuration, not a model, decides these fields (GET /arc/v1/sponsors/{slug}/configuration).
SPONSOR_FORMS = {("post", "/arc/v1/sponsors/{sponsor_slug}/beneficiaries/search")}
RULES = ("minLength", "maxLength", "pattern", "minimum", "maximum", "minItems", "maxItems")


def resolve(schema, root):
    """Follow $ref and merge allOf, so both sides compare as one flat schema."""
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        schema = {k: v for k, v in schema.items() if k != "$ref"} | target
    for part in schema.get("allOf", ()):
        schema = {k: v for k, v in schema.items() if k != "allOf"} | resolve(part, root)
    return schema


def rules(schema, root):
    """Reduce a JSON Schema to what a validator enforces: types, null, bounds, patterns, enums, nested rules."""
    schema = resolve(schema, root)
    branches = [resolve(b, root) for b in schema.get("anyOf", [schema])]
    nullable = any(b.get("type") == "null" for b in branches)
    (schema,) = [b for b in branches if b.get("type") != "null"]
    if isinstance(schema.get("type"), list):  # OpenAPI 3.1's [string, "null"]
        nullable, schema = True, schema | {"type": next(t for t in schema["type"] if t != "null")}
    summary = {"nullable": nullable or None in schema.get("enum", ())}
    summary |= {key: schema[key] for key in RULES if key in schema}
    if "exclusiveMinimum" in schema:  # pydantic's gt=0 on an integer is JSON Schema's minimum 1
        summary["minimum"] = schema["exclusiveMinimum"] + 1
    if "const" in schema or "enum" in schema:
        summary["enum"] = sorted(v for v in schema.get("enum", [schema.get("const")]) if v is not None)
    elif "type" in schema:
        summary["type"] = {"integer": "integer", "number": "number"}.get(schema["type"], schema["type"])
    if schema.get("type") == "array" and "items" in schema:
        summary["items"] = rules(schema["items"], root)
    if "properties" in schema or schema.get("type") == "object":
        summary["required"] = sorted(schema.get("required", []))
        summary["closed"] = schema.get("additionalProperties") is False
        summary["properties"] = {name: rules(sub, root) for name, sub in schema.get("properties", {}).items()}
    return summary


@pytest.mark.parametrize("operation", list(BODIES), ids=" ".join)
def test_the_documented_body_states_the_models_rules(operation):
    method, path = operation
    document = simulator.load_openapi()
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    model_schema = BODIES[operation].model_json_schema()
    assert rules(body, document) == rules(model_schema, model_schema)


def test_every_json_body_in_the_document_is_held_to_a_model():
    document = simulator.load_openapi()
    with_json_bodies = {(method, path) for path, item in document["paths"].items() for method, operation in item.items()
                        if "application/json" in operation.get("requestBody", {}).get("content", {})}
    assert with_json_bodies == set(BODIES) | SPONSOR_FORMS
