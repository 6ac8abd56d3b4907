"""Fixtures for every integration test: codes to redeem, issued through the simulator's own API."""

import pytest

ANA = "pat_01HXE0000000000000000ANA01"


@pytest.fixture
def prescribe(hospital):
    """Issue a v1 prescription as the hospital and return its code."""

    def issue(*medications, patient_id=ANA):
        lines = medications or ({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"},)
        response = hospital.post("/ehr/v1/prescriptions", json={
            "patient_id": patient_id, "diagnoses": [{"diagnosis_code": "R51"}], "medications": list(lines),
        })
        assert response.status_code == 201, response.text
        return response.json()["prescription_code"]

    return issue


@pytest.fixture
def read_otp(api):
    """Read the newest OTP the sandbox sent about a dispensation or request, as the beneficiary would."""

    def read(reference):
        messages = api().get("/sandbox/v1/messages", params={"reference": reference}).json()["data"]
        return messages[0]["otp_code"]

    return read


# The seeded sponsors' beneficiaries, found through each sponsor's own search form.
SEARCHES = {
    "seguros-andinos": {"policy_number": "SA-10000001"},
    "eps-vital": {"document_type": "CC", "document_number": "1000000002"},
    "ars-caribe": {"card_number": "00100000041", "date_of_birth": "2012-06-30"},
    "acme-salud": {"employee_number": "EMP-00042", "date_of_birth": "1980-01-01"},
}
PDF = ("order.pdf", b"%PDF-1.4\n% a medical order\n", "application/pdf")


@pytest.fixture
def sponsor_searches():
    """Each seeded sponsor's search fields for its first beneficiary."""
    return SEARCHES


@pytest.fixture
def find_beneficiary(hospital):
    """Search a sponsor's beneficiary with its own form, as a front desk would."""

    def find(sponsor, **fields):
        response = hospital.post(f"/arc/v1/sponsors/{sponsor}/beneficiaries/search",
                                 json=fields or SEARCHES[sponsor])
        assert response.status_code == 200, response.text
        return response.json()

    return find


@pytest.fixture
def preauthorize(hospital, find_beneficiary):
    """Initiate a request as the hospital, attach a diagnosis and the documents the sponsor asks for."""

    def request(sponsor, *products, documents=None, complete=True):
        beneficiary = find_beneficiary(sponsor)
        lines = [{"product_code": code, "quantity": quantity} for code, quantity in products]
        created = hospital.post("/arc/v1/preauthorizations",
                                json={"beneficiary_id": beneficiary["beneficiary_id"], "products": lines})
        assert created.status_code == 201, created.text
        base = f"/arc/v1/preauthorizations/{created.json()['preauthorization_id']}"
        hospital.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "R51"}], "notes": "3 weeks"})
        needed = created.json()["required_documents"] if documents is None else documents
        for document in needed:
            kind = document["document_type"] if isinstance(document, dict) else document
            attached = hospital.post(f"{base}/documents", data={"document_type": kind}, files={"file": PDF})
            assert attached.status_code == 201, attached.text
        if not complete:
            return base
        return hospital.post(f"{base}/complete")

    return request
