"""A tiny EHR that launches the widgets the standard way: SMART App Launch, SMART Web Messaging.

It plays every part a real EHR (Oracle Health, Epic, OpenEMR...) plays for an app: its FHIR base URL
(the launch's `iss`) with `/.well-known/smart-configuration` and `Patient/{id}`; an authorization
server that approves its signed-in doctor at once (Authlib, in authorization.py: authorize, token; PKCE
S256, each code used once; an id_token naming the doctor);
and a chart page that opens each widget in its frame and takes the drafts the widget sends back
(and the updates of its own draft order: a preauth's authorization).
When the doctor selects a draft order, the chart asks the BFF's CDS Hooks coverage service (order-select,
signed with this EHR's key, served at /jwks) and shows its cards; a SMART link card launches its widget.
It knows only the BFF's URL and its own SMART and CDS client registrations there.
"""

import os
import secrets
import time
import uuid
from urllib.parse import urlencode, urlsplit

import requests
from authlib.oauth2 import OAuth2Error
from flask import Flask, abort, jsonify, redirect, render_template, request
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from .authorization import ASSERTION_ALGORITHMS, SCOPES, EhrAuthorizationServer

# What this EHR's Patient identifiers are in: the national id (a Colombian cédula, CC) Osigu finds patients by.
IDENTIFIER_SYSTEM = "https://ehr.example.org/fhir/sid/national-id"
DOCTOR = "Practitioner/dr-laura-ruiz"
SIGNED_IN = {"id": DOCTOR, "name": "Dra. Laura Ruiz"}  # the EHR's user, who approves every launch at once
PATIENTS = {
    "ana": {"resourceType": "Patient", "id": "ana", "name": [{"family": "López", "given": ["Ana"]}],
            "birthDate": "1990-04-11", "gender": "female",
            "identifier": [{"system": IDENTIFIER_SYSTEM, "value": "1000000001",
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                 "code": "CC"}]}}]},
    # Not in Osigu yet: the prescription widget offers to register her by this document.
    "marta": {"resourceType": "Patient", "id": "marta", "name": [{"family": "Díaz", "given": ["Marta"]}],
              "identifier": [{"system": IDENTIFIER_SYSTEM, "value": "1000000777",
                              "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                   "code": "CC"}]}}]},
    # Known here only by a record number: nothing Osigu can find a patient by.
    "nadie": {"resourceType": "Patient", "id": "nadie", "name": [{"family": "Nadie", "given": ["Pedro"]}],
              "identifier": [{"system": "https://another.example.org/mrn", "value": "MRN-1"}]},
}
ENCOUNTER = "enc-1"
CDS_ISSUER = "https://ehr.example.org/cds-client"  # the iss of the JWTs this EHR signs its CDS Hooks calls with
OSIGU = "https://osigu.com/fhir"
# Draft orders the chart offers (Osigu product codes) and Ana's coverage, as this EHR records them.
ORDERS = {"IMG-020": "CT of the head", "LAB-001": "Complete blood count", "MED-001": "Amoxicillin 500 mg"}
SPONSOR = "seguros-andinos"
WIDGETS = ("prescription", "dispensing", "preauth")


def create_app(bff_url=None, client_secret=None, client_jwks_url=None):
    """The EHR, talking to the BFF at bff_url (or EHR_BFF_URL), which registered as a public client, with a
    client_secret (EHR_CLIENT_SECRET) or with the JWKS of its client assertions at client_jwks_url
    (EHR_CLIENT_JWKS_URL). Tests may set app.config["DENY"] to refuse the authorization and ID_TOKEN_KEY or
    ID_TOKEN_CLAIMS to forge id_tokens; ?refuse_drafts=1 on the chart makes its scratchpad refuse what the app
    sends."""
    app = Flask(__name__)
    app.config.update(BFF_URL=(bff_url or os.environ.get("EHR_BFF_URL", "http://127.0.0.1:8080")).rstrip("/"),
                      CLIENT_SECRET=client_secret or os.environ.get("EHR_CLIENT_SECRET"),
                      CLIENT_JWKS_URL=client_jwks_url or os.environ.get("EHR_CLIENT_JWKS_URL"), DENY=False)
    signing_key = ECKey.generate_key("P-384", parameters={"kid": "ehr-cds-1"}, private=True)
    app.config.update(ID_TOKEN_KEY=RSAKey.generate_key(2048, parameters={"kid": "ehr-oidc-1"}, private=True),
                      ID_TOKEN_CLAIMS={})
    published_keys = [key.as_dict(private=False) for key in (signing_key, app.config["ID_TOKEN_KEY"])]
    server = EhrAuthorizationServer(app)

    @app.get("/")
    def chart():
        """The chart of a patient (?patient=ana): one button per widget, each opening it in the app frame."""
        patient = request.args.get("patient", "ana")
        if patient not in PATIENTS:
            abort(404)
        return render_template("ehr/chart.html", patient=PATIENTS[patient], widgets=WIDGETS, orders=ORDERS,
                               bff_origin=app.config["BFF_URL"], refuse_drafts=request.args.get("refuse_drafts") == "1")

    @app.post("/orders/select")
    def select_order():
        """The doctor selects a draft order: ask the coverage service (order-select) and show its cards."""
        patient, product = request.form.get("patient", "ana"), request.form.get("product_code", "")
        if patient not in PATIENTS or product not in ORDERS:
            abort(400)
        url = f"{app.config['BFF_URL']}/cds-services/osigu-coverage-order-select"
        order = draft_order(patient, product)
        answer = requests.post(url, json=hook_call(patient, order), timeout=15,
                               headers={"Authorization": f"Bearer {signed_for(url)}"})
        cards = answer.json().get("cards", []) if answer.ok else []
        return render_template("ehr/chart.html", patient=PATIENTS[patient], widgets=WIDGETS, orders=ORDERS,
                               bff_origin=app.config["BFF_URL"], cards=[with_launches(card, patient) for card in cards],
                               selected=product, cds_failed=not answer.ok, draft=order)

    def signed_for(audience):
        now = int(time.time())
        claims = {"iss": CDS_ISSUER, "aud": audience, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        return jwt.encode({"alg": "ES384", "typ": "JWT", "kid": "ehr-cds-1"}, claims, signing_key, algorithms=["ES384"])

    def with_launches(card, patient):
        """A card whose SMART links launch from this EHR: the chart's context and the link's appContext."""
        links = []
        for link in card.get("links", []):
            parts = urlsplit(link.get("url", ""))
            widget = parts.path.rstrip("/").split("/")[-2] if parts.path.endswith("/launch") else None
            if link.get("type") == "smart" and widget in WIDGETS:
                query = {"patient": patient, "appContext": link.get("appContext", "")}
                links.append({"label": link["label"], "href": f"/launch/{widget}?{urlencode(query)}"})
        return card | {"launches": links}

    @app.get("/jwks")
    def jwks():
        """The keys of this EHR's CDS Hooks calls and of its id_tokens."""
        return {"keys": published_keys}

    @app.get("/launch/<widget>")
    def launch(widget):
        """Open a widget for a chart's patient: a launch id for its context, then the BFF's launch URL.

        ?appContext= is what a CDS Hooks card's SMART link carried: the EHR hands it back in the token response.
        """
        patient = request.args.get("patient", "ana")
        if widget not in WIDGETS or patient not in PATIENTS:
            abort(404)
        launch_id = secrets.token_urlsafe(16)
        context = {"patient": patient, "encounter": ENCOUNTER, "handle": secrets.token_urlsafe(16)}
        if request.args.get("appContext"):
            context["appContext"] = request.args["appContext"]
        with server.lock:
            server.launches[launch_id] = context
        query = urlencode({"iss": server.issuer(), "launch": launch_id})
        return redirect(f"{app.config['BFF_URL']}/smart/{widget}/launch?{query}")

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration():
        root = request.url_root.rstrip("/")
        return {"issuer": server.issuer(), "jwks_uri": f"{root}/jwks",
                "authorization_endpoint": f"{root}/auth/authorize", "token_endpoint": f"{root}/auth/token",
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                          "private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
                "grant_types_supported": ["authorization_code"], "code_challenge_methods_supported": ["S256"],
                "scopes_supported": list(SCOPES), "response_types_supported": ["code"],
                "capabilities": ["launch-ehr", "client-public", "client-confidential-symmetric",
                                 "client-confidential-asymmetric", "sso-openid-connect", "context-ehr-patient",
                                 "context-ehr-encounter", "smart-web-messaging"]}

    @app.get("/auth/authorize")
    def authorize():
        """Approve the signed-in doctor at once (a real EHR may ask); errors go back as RFC 6749 says."""
        try:
            grant = server.get_consent_grant(end_user=SIGNED_IN)
        except OAuth2Error as error:
            return server.handle_error_response(request, error)
        return server.create_authorization_response(grant_user=None if app.config["DENY"] else SIGNED_IN,
                                                  grant=grant)

    @app.post("/auth/token")
    def token():
        """Exchange a code once: Authlib checks the client, the redirect URI and the PKCE verifier."""
        return server.create_token_response()

    def draft_order(patient, product):
        """The draft order the doctor selected, as this EHR holds it in its scratchpad."""
        kind = "MedicationRequest" if product.startswith("MED-") else "ServiceRequest"
        concept = {"coding": [{"system": f"{OSIGU}/product-code", "code": product, "display": ORDERS[product]}]}
        order = {"resourceType": kind, "id": "draft-1", "status": "draft", "intent": "order",
                 "subject": {"reference": f"Patient/{patient}"},
                 "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "R51"}]}]}
        order |= ({"medicationCodeableConcept": concept, "dispenseRequest": {"quantity": {"value": 1}}}
                  if kind == "MedicationRequest" else {"code": concept, "quantityQuantity": {"value": 1}})
        return order

    def hook_call(patient, order):
        """order-select for one draft order, with the patient's Coverage prefetched (its payor: the sponsor)."""
        kind = order["resourceType"]
        coverage = {"resourceType": "Coverage", "id": f"cov-{patient}", "status": "active",
                    "beneficiary": {"reference": f"Patient/{patient}"},
                    "payor": [{"identifier": {"system": f"{OSIGU}/sponsor", "value": SPONSOR}}]}
        return {"hook": "order-select", "hookInstance": str(uuid.uuid4()),
                "context": {"userId": DOCTOR, "patientId": patient, "encounterId": ENCOUNTER,
                            "selections": [f"{kind}/draft-1"],
                            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                            "entry": [{"resource": order}]}},
                "prefetch": {"coverage": {"resourceType": "Bundle", "type": "searchset",
                                          "entry": [{"resource": coverage}]}}}

    @app.get("/fhir/Patient/<patient_id>")
    def patient(patient_id):
        """A Patient, for a token issued for that patient only."""
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or server.patient_for(presented) != patient_id:
            return jsonify(resourceType="OperationOutcome", issue=[{"severity": "error", "code": "forbidden"}]), 403
        return PATIENTS[patient_id], 200, {"Content-Type": "application/fhir+json"}

    @app.after_request
    def security_headers(response):
        # A launch starts on this EHR's /launch/..., then the frame goes to the BFF.
        policy = f"default-src 'self'; img-src 'self' data:; frame-src 'self' {app.config['BFF_URL']}"
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return app
