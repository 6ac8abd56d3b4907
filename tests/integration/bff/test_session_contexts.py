"""A session's context is checked per widget when the session is made, never left to fail the steps later."""

import pytest

ORIGIN = "http://127.0.0.1:9001"
USER = {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}


def create(host, widget, context):
    return host.post("/v1/widget-sessions", json={"widget": widget, "origin": ORIGIN, "user": USER,
                                                  "context": context})


@pytest.mark.parametrize("widget, context", [
    ("prescription", {}),
    ("prescription", {"patient": {"patient_id": "pat_01HXE0000000000000000ANA01"}}),
    ("prescription", {"patient": {"document_type": "CC", "document_number": "1000000001"},
                      "priority": "URGENT", "department": {"id": "dep-1", "name": "Urgencias"},
                      "diagnoses": ["J45.9", "R51"], "repeat_of": "rx_01HXE000000000000000000001",
                      "medications": [{"product_code": "MED-042", "quantity": 30},
                                      {"product_code": "MED-001", "posology": {"dose": 0.5, "unit": "capsule",
                                                                               "every_hours": 8, "duration_days": 7}}],
                      }),
    ("dispensing", {"code": "RX-2026-123456"}),
    ("dispensing", {"code": "AUT-2026-12345678", "department_id": "dep-1"}),
    ("dispensing", {"mode": "queue"}),
    ("preauth", {"sponsor": "seguros-andinos", "beneficiary": {"document_number": "900123"},
                 "products": [{"product_code": "LAB-001", "quantity": 1}], "diagnoses": ["E11.9"]}),
    ("preauth", {"preauthorization_id": "par_01HXE0000000000000000000"}),
])
def test_a_context_of_the_documented_shape_is_accepted(host, widget, context):
    assert create(host, widget, context).status_code == 201


@pytest.mark.parametrize("widget, context, field", [
    ("prescription", {"patient_id": "pat_1"}, "context.patient_id"),  # an unknown key
    ("prescription", {"patient": "Ana"}, "context.patient"),
    ("prescription", {"patient": {"patient_id": "../../../sandbox/v1/messages"}}, "context.patient.patient_id"),
    ("prescription", {"patient": {"document_type": "XX", "document_number": "1000000001"}},
     "context.patient.document_type"),
    ("prescription", {"patient": {"document_number": 1000000001}}, "context.patient.document_number"),
    ("prescription", {"patient": {}}, "context.patient"),
    ("prescription", {"priority": "SOON"}, "context.priority"),
    ("prescription", {"department": {"id": "dep-1"}}, "context.department.name"),
    ("prescription", {"diagnoses": ["headache"]}, "context.diagnoses.0"),
    ("prescription", {"diagnoses": "R51"}, "context.diagnoses"),
    ("prescription", {"diagnoses": ["R51"] * 11}, "context.diagnoses"),
    ("prescription", {"medications": [{"product_code": "MED/042"}]}, "context.medications.0.product_code"),
    ("prescription", {"medications": [{"product_code": "MED-042", "quantity": "30"}]},
     "context.medications.0.quantity"),
    ("prescription", {"medications": [{"product_code": "MED-042", "quantity": 1001}]},
     "context.medications.0.quantity"),
    ("prescription", {"medications": [{"product_code": "MED-042", "posology": {"dose": 1, "unit": "spoon",
                                                                               "every_hours": 8, "duration_days": 3}}]},
     "context.medications.0.posology.unit"),
    ("prescription", {"repeat_of": "rx/1"}, "context.repeat_of"),
    # The time zone is the session's own field ("timezone"), not part of the context.
    ("prescription", {"timezone": "America/Bogota"}, "context.timezone"),
    ("dispensing", {"code": "RX-1"}, "context.code"),
    ("dispensing", {"mode": "batch"}, "context.mode"),
    ("dispensing", {"patient": {"patient_id": "pat_1"}}, "context.patient"),
    ("preauth", {"beneficiary": {"document_number": 900123}}, "context.beneficiary.document_number"),
    ("preauth", {"products": [{"product_code": "LAB-001"}]}, "context.products.0.quantity"),
    ("preauth", {"sponsor": "Seguros Andinos!"}, "context.sponsor"),
    ("preauth", {"preauthorization_id": "../reopen"}, "context.preauthorization_id"),
])
def test_a_malformed_context_is_422_naming_the_field(host, widget, context, field):
    response = create(host, widget, context)
    assert response.status_code == 422
    assert field in [detail["field"] for detail in response.json()["details"]], response.json()


def test_a_context_is_stored_as_checked(host, bff_app):
    from bff.db import WidgetSession, db

    context = {"patient": {"document_type": "CC", "document_number": "1000000001"}, "diagnoses": ["R51"]}
    assert create(host, "prescription", context).status_code == 201
    with bff_app.app_context():
        stored = db.session.scalars(db.select(WidgetSession)).one().context
    assert stored == context  # only what was given: no defaults a later version could misread
