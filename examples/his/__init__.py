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

DOCTOR = {"id": "dr-laura-ruiz", "name": "Dra. Laura Ruiz", "role": "doctor"}
PATIENTS = {  # this HIS's own records; the widget gets only the document to look the patient up by
    "ana": {"document_type": "CC", "document_number": "1000000001"},
    "lucia": {"document_type": "DNI", "document_number": "12345678Z"},
}
# The page speaks one language at a time (switched at the top), and the widget speaks the page's.
TEXTS = {
    "es": {"language_name": "Español", "language": "Idioma", "new": "Nueva receta", "patient": "Paciente",
           "look_up": "— que el médico busque al paciente —", "market": "Mercado",
           "v1": "Colombia · receta electrónica v1", "v1.1": "Portugal · v1.1 (consentimiento del paciente)",
           "v2": "España · v2 (repositorio nacional, firmada)", "prescribe": "Recetar",
           "events": "Lo que el widget dijo a esta página (postMessage)",
           "callbacks": "Lo que el BFF dijo a este back end (callbacks firmados)",
           "issued": "Receta {code} emitida ({id}).", "clinic": "Consulta externa"},
    "en": {"language_name": "English", "language": "Language", "new": "New prescription", "patient": "Patient",
           "look_up": "— let the doctor look the patient up —", "market": "Market",
           "v1": "Colombia · e-prescription v1", "v1.1": "Portugal · v1.1 (patient-data consent)",
           "v2": "Spain · v2 (national repository, signed)", "prescribe": "Prescribe",
           "events": "What the widget told this page (postMessage)",
           "callbacks": "What the BFF told this back end (signed callbacks)",
           "issued": "Prescription {code} issued ({id}).", "clinic": "Outpatient clinic"},
    "pt": {"language_name": "Português", "language": "Idioma", "new": "Nova receita", "patient": "Doente",
           "look_up": "— o médico procura o doente —", "market": "Mercado",
           "v1": "Colômbia · receita eletrónica v1", "v1.1": "Portugal · v1.1 (consentimento do doente)",
           "v2": "Espanha · v2 (repositório nacional, assinada)", "prescribe": "Prescrever",
           "events": "O que o widget disse a esta página (postMessage)",
           "callbacks": "O que o BFF disse a este back end (callbacks assinados)",
           "issued": "Receita {code} emitida ({id}).", "clinic": "Consulta externa"},
}


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

    @app.get("/")
    def index():
        """The doctor's page: the patient's chart, a button to prescribe, and what the widget reported."""
        lang = request.args.get("lang") if request.args.get("lang") in TEXTS else "es"
        return render_template("his/index.html", bff_url=app.config["BFF_URL"], markets=app.config["API_KEYS"],
                               lang=lang, t=TEXTS[lang], languages={code: TEXTS[code]["language_name"]
                                                                    for code in TEXTS})

    @app.post("/widget-session")
    def widget_session():
        """Vouch for the signed-in doctor: ask the BFF for a widget session (the API key stays here)."""
        choice = request.get_json(silent=True) or {}
        api_key = app.config["API_KEYS"].get(choice.get("market"))
        if api_key is None:
            return {"error": "unknown market"}, 400
        body = {"widget": "prescription", "origin": request.host_url.rstrip("/"), "user": DOCTOR,
                "locale": choice.get("locale") if choice.get("locale") in TEXTS else "es",
                "context": {"patient": PATIENTS[choice["patient"]]} if choice.get("patient") in PATIENTS else {}}
        answer = requests.post(f"{app.config['BFF_URL']}/v1/widget-sessions", json=body, timeout=10,
                               headers={"Authorization": f"Bearer {api_key}"})
        return answer.json(), answer.status_code

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
