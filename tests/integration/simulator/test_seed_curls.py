"""Every curl in the product documents (seeds 003 and 004) works against the simulator.

The commands are copied verbatim from the seeds. Only what the seeds themselves leave to the
reader is swapped: the host, $TOKEN, and the elided ids ("pat_01HXE...", "pat_...", "rx_...").
"""

import json
import subprocess

SEED_HOST = "https://sandbox.osigu.com"
ANA = "pat_01HXE0000000000000000ANA01"

# (seed, step, command, expected HTTP status)
SEED_003_BEFORE = [
    ("003", "1. medications", '''curl "https://sandbox.osigu.com/medical-catalogs/v1/medications?query=paracetamol" \\
-H "Authorization: Bearer $TOKEN"''', 200),
    ("003", "1. labs", '''curl "https://sandbox.osigu.com/arc/v1/products?product_type=LAB" \\
-H "Authorization: Bearer $TOKEN"''', 200),
    ("003", "2. register", '''curl -X POST "https://sandbox.osigu.com/arc/v1/providers/products" \\
-H "Authorization: Bearer $TOKEN" \\
-H "Content-Type: application/json" \\
-d '{
"product_code": "MED-042"
}\'''', 201),
    ("003", "3. verify", '''curl "https://sandbox.osigu.com/arc/v1/providers/products" \\
-H "Authorization: Bearer $TOKEN"''', 200),
]
SEED_004 = [
    ("004", "1. look up", '''curl "https://sandbox.osigu.com/ehr/v1/patients?document_number=1000000001" \\
-H "Authorization: Bearer $TOKEN"''', 200),
    ("004", "1. create", '''curl -X POST "https://sandbox.osigu.com/ehr/v1/patients" \\
-H "Authorization: Bearer $TOKEN" \\
-H "Content-Type: application/json" \\
-d '{
"first_name": "Ana",
"last_name": "López",
"document_type": "CC",
"document_number": "1000000001",
"date_of_birth": "1990-04-11"
}\'''', 200),
    ("004", "2. diagnosis", '''curl "https://sandbox.osigu.com/medical-catalogs/v1/diagnoses?query=cephalgia" \\
-H "Authorization: Bearer $TOKEN"''', 200),
    ("004", "3. medications", '''curl "https://sandbox.osigu.com/arc/v1/providers/products?product_type=MEDICATION" \\
-H "Authorization: Bearer $TOKEN"''', 200),
    ("004", "4. create v1", '''curl -X POST "https://sandbox.osigu.com/ehr/v1/prescriptions" \\
-H "Authorization: Bearer $TOKEN" \\
-H "Content-Type: application/json" \\
-d '{
"patient_id": "pat_01HXE...",
"diagnoses": [{ "diagnosis_code": "R51" }],
"medications": [{
"product_code": "MED-042",
"quantity": 30,
"posology": "1 tablet every 8h",
"duration_days": 10
}]
}\'''', 201),
    ("004", "5. resend", '''curl -X POST "https://sandbox.osigu.com/ehr/v1/prescriptions/rx_.../resend" \\
-H "Authorization: Bearer $TOKEN" \\
-H "Content-Type: application/json" \\
-d '{"channel": "EMAIL"}\'''', 202),
    ("004", "v1.1", '''curl -X POST "https://sandbox.osigu.com/ehr/v1.1/prescriptions" \\
-H "Authorization: Bearer $TOKEN" \\
-H "Content-Type: application/json" \\
-d '{
"patient_id": "pat_...",
"patient_data_consent": true,
"diagnoses": [{ "diagnosis_code": "R51" }],
"medications": [{ "product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8h" }]
}\'''', 201),
]
SEED_003_AFTER = [
    ("003", "4. remove", '''curl -X DELETE "https://sandbox.osigu.com/arc/v1/providers/products/MED-042" \\
-H "Authorization: Bearer $TOKEN"''', 204),
]


def run_curl(command, base_url, token, ids):
    """Run a seed's curl through bash, as a reader would paste it, and return (status, body)."""
    command = command.replace(SEED_HOST, base_url)
    for placeholder, real in ids.items():
        command = command.replace(placeholder, real)
    command = command.replace("curl ", "curl -sS -w '\\n%{http_code}' ", 1)
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                            env={"TOKEN": token, "PATH": "/usr/bin:/bin"}, check=True)
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


def test_every_seed_curl_works_in_order(simulator_url, clinic):
    token = clinic.token["access_token"]
    ids = {"pat_01HXE...": ANA, "pat_...": ANA}
    for seed, step, command, expected in SEED_003_BEFORE + SEED_004 + SEED_003_AFTER:
        status, body = run_curl(command, simulator_url, token, ids)
        assert status == expected, f"seed {seed} step {step}: {status} {body}"
        if step == "4. create v1":
            assert body["status"] == "PRESCRIPTION_ISSUED"
            ids["rx_..."] = body["prescription_id"]
        if step == "2. diagnosis":
            assert body["data"][0]["diagnosis_code"] == "R51"
        if step == "1. look up":
            assert body["data"][0]["first_name"] == "Ana"
