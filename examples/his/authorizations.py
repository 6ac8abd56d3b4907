"""An authorization code to dispense in the demo, obtained the way a clinic obtains one: through the BFF's proxy.

The simulator seeds the beneficiaries (simulator/README.md), not authorization codes: a code is spent once
dispensed, so each press gets a fresh one for the same seeded beneficiary.
"""

import requests

# Ana López's Seguros Andinos policy: the sponsor approves amoxicillin at once and, at the counter, asks for her OTP.
SPONSOR = "seguros-andinos"
BENEFICIARY = {"policy_number": "SA-10000001"}
PRODUCTS = [{"product_code": "MED-001", "quantity": 21}]
DIAGNOSES = [{"diagnosis_code": "J02.9"}]


class NotObtained(RuntimeError):
    """The BFF or the sponsor did not give an approved authorization."""


def obtain(bff_url, api_key):
    """Request a pre-authorization for the seeded beneficiary and return its approved AUT- code."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    proxy = f"{bff_url}/v1/osigu/arc/v1"

    def call(method, path, **kwargs):
        response = session.request(method, f"{proxy}/{path}", timeout=10, **kwargs)
        if not response.ok:
            raise NotObtained(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    beneficiary = call("POST", f"sponsors/{SPONSOR}/beneficiaries/search", json=BENEFICIARY)
    request_id = call("POST", "preauthorizations", json={"beneficiary_id": beneficiary["beneficiary_id"],
                                                         "products": PRODUCTS})["preauthorization_id"]
    call("PUT", f"preauthorizations/{request_id}/indications", json={"diagnoses": DIAGNOSES})
    decided = call("POST", f"preauthorizations/{request_id}/complete")
    approved = [item["authorization_code"] for item in decided.get("authorizations", [])
                if item.get("status") == "APPROVED"]
    if not approved:
        raise NotObtained(f"{SPONSOR} approved nothing: {decided.get('status')}")
    return approved[0]
