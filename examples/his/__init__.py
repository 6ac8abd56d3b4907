"""A small HIS-like host app: its back end makes widget sessions with its API key, its page mounts the widget.

It is what an integrator writes, so it knows nothing of the BFF's internals: only the BFF's URL,
its API keys (one per market here, to show v1, v1.1 and v2) and the secret its callbacks are signed with.
"""

import json
import os
import threading

import requests
from flask import Flask, jsonify, render_template, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from . import authorizations

DOCTOR = {"id": "dr-laura-ruiz", "name": "Dra. Laura Ruiz", "role": "doctor"}
PHARMACIST = {"id": "ph-pedro-gil", "name": "Farm. Pedro Gil", "role": "PHARMACIST"}
ADMISSION = {"id": "adm-marta-diaz", "name": "Marta Díaz", "role": "admission"}
PATIENTS = {  # this HIS's own records; the widget gets only the document to look the patient up by
    "ana": {"document_type": "CC", "document_number": "1000000001"},
    "lucia": {"document_type": "DNI", "document_number": "12345678Z"},
}
# What the admission desk knows of Ana López's request: her Seguros Andinos policy, a lab, a medication and a CT
# (the sponsor approves the first two at once and reviews the CT).
ADMISSION_REQUEST = {"sponsor": authorizations.SPONSOR, "beneficiary": authorizations.BENEFICIARY,
                     "products": [{"product_code": "LAB-001", "quantity": 1},
                                  {"product_code": "MED-001", "quantity": 1},
                                  {"product_code": "IMG-020", "quantity": 1}],
                     "diagnoses": ["R51"]}
# The page speaks one language at a time (switched at the top), and the widget speaks the page's.
TEXTS = {
    "es": {"language_name": "Español", "language": "Idioma", "new": "Nueva receta", "patient": "Paciente",
           "look_up": "— que el médico busque al paciente —", "market": "Mercado",
           "v1": "Colombia · receta electrónica v1", "v1.1": "Portugal · v1.1 (consentimiento del paciente)",
           "v2": "España · v2 (repositorio nacional, firmada)", "prescribe": "Recetar",
           "events": "Lo que el widget dijo a esta página (postMessage)",
           "callbacks": "Lo que el BFF dijo a este back end (callbacks firmados)",
           "issued": "Receta {code} emitida ({id}).", "clinic": "Consulta externa",
           "dispense_now": "Dispensarla ahora en la farmacia", "sections": "Secciones del HIS",
           "pharmacy": "Farmacia", "dispense_title": "Dispensar una receta o una autorización",
           "code": "Código RX-… o AUT-… (opcional: el widget lo pide si no)", "dispense": "Dispensar",
           "try": "Para probar", "try_prescription": "la receta que acaba de emitir la consulta",
           "try_authorization": "Obtener una autorización AUT- (Seguros Andinos, Ana López, amoxicilina: "
                                "pide el OTP de la paciente)",
           "authorization_failed": "No se pudo obtener la autorización de prueba.",
           "otp_hint": "El OTP que «recibe» la paciente está en la bandeja del simulador (/sandbox/outbox).",
           "reader": "Lector de huellas de esta farmacia (simulado)",
           "no_match": "Simular una huella que no coincide (lectura que empieza por NO-MATCH)",
           "dispensed": "Dispensación {id} de {code} completada.", "claim": "Reclamación {claim} presentada.",
           "try_again": "Inténtelo de nuevo.",
           "admission": "Admisión", "preauth_title": "Preautorización",
           "preauth_for": "Ana López · Seguros Andinos, póliza SA-10000001: hemograma, amoxicilina y TAC de cráneo.",
           "request_preauth": "Solicitar la preautorización",
           "document_hint": "El TAC necesita la orden médica: suba cualquier PDF, JPEG o PNG.",
           "codes": "Códigos de autorización", "authorization_code": "Código", "status": "Estado",
           "products": "Productos", "requested": "Preautorización {id}: {status}.",
           "APPROVED": "aprobada", "PARTIALLY_APPROVED": "aprobada en parte", "PENDING": "en revisión",
           "REJECTED": "rechazada", "no_code": "sin código"},
    "en": {"language_name": "English", "language": "Language", "new": "New prescription", "patient": "Patient",
           "look_up": "— let the doctor look the patient up —", "market": "Market",
           "v1": "Colombia · e-prescription v1", "v1.1": "Portugal · v1.1 (patient-data consent)",
           "v2": "Spain · v2 (national repository, signed)", "prescribe": "Prescribe",
           "events": "What the widget told this page (postMessage)",
           "callbacks": "What the BFF told this back end (signed callbacks)",
           "issued": "Prescription {code} issued ({id}).", "clinic": "Outpatient clinic",
           "dispense_now": "Dispense it now at the pharmacy", "sections": "HIS sections",
           "pharmacy": "Pharmacy", "dispense_title": "Dispense a prescription or an authorization",
           "code": "RX-… or AUT-… code (optional: the widget asks for it otherwise)", "dispense": "Dispense",
           "try": "To try", "try_prescription": "the prescription the clinic just issued",
           "try_authorization": "Get an AUT- authorization (Seguros Andinos, Ana López, amoxicillin: "
                                "it asks for the patient's OTP)",
           "authorization_failed": "Could not get the authorization to try.",
           "otp_hint": "The OTP the patient \"receives\" is in the simulator's outbox (/sandbox/outbox).",
           "reader": "This pharmacy's fingerprint reader (simulated)",
           "no_match": "Simulate a fingerprint that does not match (a reading starting with NO-MATCH)",
           "dispensed": "Dispensation {id} of {code} completed.", "claim": "Claim {claim} filed.",
           "try_again": "Try again.",
           "admission": "Admission", "preauth_title": "Pre-authorization",
           "preauth_for": "Ana López · Seguros Andinos, policy SA-10000001: blood count, amoxicillin and a head CT.",
           "request_preauth": "Request the pre-authorization",
           "document_hint": "The CT needs the medical order: upload any PDF, JPEG or PNG.",
           "codes": "Authorization codes", "authorization_code": "Code", "status": "Status",
           "products": "Products", "requested": "Pre-authorization {id}: {status}.",
           "APPROVED": "approved", "PARTIALLY_APPROVED": "partly approved", "PENDING": "under review",
           "REJECTED": "rejected", "no_code": "no code"},
    "pt": {"language_name": "Português", "language": "Idioma", "new": "Nova receita", "patient": "Doente",
           "look_up": "— o médico procura o doente —", "market": "Mercado",
           "v1": "Colômbia · receita eletrónica v1", "v1.1": "Portugal · v1.1 (consentimento do doente)",
           "v2": "Espanha · v2 (repositório nacional, assinada)", "prescribe": "Prescrever",
           "events": "O que o widget disse a esta página (postMessage)",
           "callbacks": "O que o BFF disse a este back end (callbacks assinados)",
           "issued": "Receita {code} emitida ({id}).", "clinic": "Consulta externa",
           "dispense_now": "Dispensá-la agora na farmácia", "sections": "Secções do HIS",
           "pharmacy": "Farmácia", "dispense_title": "Dispensar uma receita ou uma autorização",
           "code": "Código RX-… ou AUT-… (opcional: senão o widget pede-o)", "dispense": "Dispensar",
           "try": "Para experimentar", "try_prescription": "a receita que a consulta acabou de emitir",
           "try_authorization": "Obter uma autorização AUT- (Seguros Andinos, Ana López, amoxicilina: "
                                "pede o OTP da doente)",
           "authorization_failed": "Não foi possível obter a autorização de teste.",
           "otp_hint": "O OTP que a doente «recebe» está na caixa de saída do simulador (/sandbox/outbox).",
           "reader": "Leitor de impressões digitais desta farmácia (simulado)",
           "no_match": "Simular uma impressão digital que não corresponde (leitura que começa por NO-MATCH)",
           "dispensed": "Dispensa {id} de {code} concluída.", "claim": "Reclamação {claim} apresentada.",
           "try_again": "Tente novamente.",
           "admission": "Admissão", "preauth_title": "Pré-autorização",
           "preauth_for": "Ana López · Seguros Andinos, apólice SA-10000001: hemograma, amoxicilina e TAC "
                          "crânio-encefálica.",
           "request_preauth": "Pedir a pré-autorização",
           "document_hint": "A TAC precisa da requisição médica: carregue qualquer PDF, JPEG ou PNG.",
           "codes": "Códigos de autorização", "authorization_code": "Código", "status": "Estado",
           "products": "Produtos", "requested": "Pré-autorização {id}: {status}.",
           "APPROVED": "aprovada", "PARTIALLY_APPROVED": "aprovada em parte", "PENDING": "em análise",
           "REJECTED": "recusada", "no_code": "sem código"},
}
# The pharmacy dispenses codes from every market with one host app's key (a code is its own credential); the
# admission desk's requests are not per market either.
PHARMACY_MARKET = "v1"
# The hospital's wards: a ward doctor's prescription joins the hospital pharmacy's queue with its priority.
WARDS = {"icu": {"id": "icu", "name": "UCI / ICU"}, "ward-3": {"id": "ward-3", "name": "Medicina interna · 3"}}
PRIORITIES = ("ROUTINE", "URGENT", "STAT")
WARD_TEXTS = {
    "es": {"ward": "Planta", "ward_title": "Receta de planta (va a la cola de la farmacia del hospital)",
           "priority": "Prioridad", "ROUTINE": "Rutinaria", "URGENT": "Urgente", "STAT": "STAT (inmediata)",
           "hospital_pharmacy": "Farmacia del hospital", "worklist": "Lista de trabajo de la farmacia",
           "completed": "{code}: dispensación {id} completada."},
    "en": {"ward": "Ward", "ward_title": "Ward prescription (it joins the hospital pharmacy's queue)",
           "priority": "Priority", "ROUTINE": "Routine", "URGENT": "Urgent", "STAT": "STAT (now)",
           "hospital_pharmacy": "Hospital pharmacy", "worklist": "Pharmacy worklist",
           "completed": "{code}: dispensation {id} completed."},
    "pt": {"ward": "Enfermaria", "ward_title": "Receita de enfermaria (entra na fila da farmácia do hospital)",
           "priority": "Prioridade", "ROUTINE": "Rotina", "URGENT": "Urgente", "STAT": "STAT (imediata)",
           "hospital_pharmacy": "Farmácia do hospital", "worklist": "Lista de trabalho da farmácia",
           "completed": "{code}: dispensa {id} concluída."},
}
for _lang, _texts in WARD_TEXTS.items():
    TEXTS[_lang] |= _texts


def create_app(test_config=None):
    """Build the host app from HIS_* environment variables (or test_config)."""
    app = Flask(__name__)
    app.config.update(
        BFF_URL=os.environ.get("HIS_BFF_URL", "http://127.0.0.1:8080"),
        API_KEYS=json.loads(os.environ.get("HIS_API_KEYS", "{}")),
        CALLBACK_SECRET=os.environ.get("HIS_CALLBACK_SECRET"),
    )
    app.config.update(test_config or {})
    callbacks, lock = [], threading.Lock()

    def page(template, **values):
        """Render one of the HIS's pages in the language asked for (Spanish by default)."""
        lang = request.args.get("lang") if request.args.get("lang") in TEXTS else "es"
        return render_template(template, bff_url=app.config["BFF_URL"], lang=lang, t=TEXTS[lang],
                               languages={code: TEXTS[code]["language_name"] for code in TEXTS}, **values)

    @app.get("/")
    def index():
        """The doctor's page: the patient's chart, a button to prescribe, and what the widget reported."""
        return page("his/index.html", markets=app.config["API_KEYS"])

    @app.get("/pharmacy")
    def pharmacy():
        """The pharmacist's page: a code (from the clinic, typed or scanned) and the dispensing widget."""
        return page("his/pharmacy.html", code=request.args.get("code", "")[:40])

    @app.get("/ward")
    def ward():
        """A ward doctor's page: prescribe for an inpatient with a priority; the pharmacy's queue gets it."""
        return page("his/ward.html", wards=WARDS, priorities=PRIORITIES)

    @app.get("/hospital-pharmacy")
    def hospital_pharmacy():
        """The hospital pharmacist's page: the dispensing widget in queue mode, the wards' prescriptions."""
        return page("his/hospital_pharmacy.html")

    @app.get("/admission")
    def admission():
        """The admission desk's page: Ana López's pre-authorization, its codes as they are decided, each dispensable."""
        return page("his/admission.html")

    @app.post("/widget-session")
    def widget_session():
        """Vouch for the signed-in doctor, pharmacist or admission clerk: ask the BFF for a widget session (the API key
        stays here)."""
        choice = request.get_json(silent=True) or {}
        dispensing, preauth = choice.get("widget") == "dispensing", choice.get("widget") == "preauth"
        api_key = app.config["API_KEYS"].get(PHARMACY_MARKET if dispensing or preauth else choice.get("market"))
        if api_key is None:
            return {"error": "unknown market"}, 400
        body = {"origin": request.host_url.rstrip("/"),
                "locale": choice.get("locale") if choice.get("locale") in TEXTS else "es"}
        if dispensing:
            # The BFF checks the code's shape; the widget asks for one when there is none.
            body |= {"widget": "dispensing", "user": PHARMACIST,
                     "context": {"code": choice["code"]} if choice.get("code") else {}}
            if choice.get("mode") == "queue":  # the hospital pharmacy's worklist
                body["context"] = {"mode": "queue"}
        elif preauth:
            body |= {"widget": "preauth", "user": ADMISSION, "context": ADMISSION_REQUEST}
        else:
            body |= {"widget": "prescription", "user": DOCTOR,
                     "context": {"patient": PATIENTS[choice["patient"]]} if choice.get("patient") in PATIENTS else {}}
            if choice.get("ward") in WARDS:  # an inpatient's prescription joins the pharmacy's queue
                body["context"] |= {"department": WARDS[choice["ward"]],
                                    "priority": choice["priority"] if choice.get("priority") in PRIORITIES
                                    else "ROUTINE"}
        answer = requests.post(f"{app.config['BFF_URL']}/v1/widget-sessions", json=body, timeout=10,
                               headers={"Authorization": f"Bearer {api_key}"})
        return answer.json(), answer.status_code

    @app.post("/demo-authorization")
    def demo_authorization():
        """Obtain an authorization code to dispense, as the clinic would have before the patient came to the counter."""
        try:
            code = authorizations.obtain(app.config["BFF_URL"], app.config["API_KEYS"][PHARMACY_MARKET])
        except authorizations.NotObtained as error:
            return {"error": str(error)}, 502
        return {"authorization_code": code}

    @app.post("/osigu/callbacks")
    def receive_callback():
        """Take the BFF's signed callbacks (Standard Webhooks); a repeat is recognised by its webhook-id."""
        try:
            payload = Webhook(app.config["CALLBACK_SECRET"]).verify(request.get_data(), dict(request.headers))
        except (WebhookVerificationError, ValueError):
            return "", 401
        with lock:
            if all(item["id"] != request.headers["webhook-id"] for item in callbacks):
                callbacks.append({"id": request.headers["webhook-id"], "type": payload["type"],
                                  "data": payload["data"]})
        return "", 204

    @app.get("/osigu/callbacks")
    def list_callbacks():
        """What the back end has heard, for the page to show."""
        with lock:
            return jsonify(list(reversed(callbacks)))

    return app
