"""The pre-authorization widget over HTTP, as static/widget.js drives it, against a live simulator (the kit's own
contract, common to every widget, is in test_kit.py)."""

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from widget_client import HOSTILE, fill_in_ana_at_seguros_andinos, invalid, products_form, step_of, trigger_of

from bff import outbox
from bff.db import SessionObject, db

PDF = b"%PDF-1.4\n% a medical order\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MAX_BYTES = 64 * 1024  # the simulator's document limit, made small so refusing a larger file is quick


@pytest.fixture
def simulator_config():
    return {"SUPPORT_DOCUMENT_MAX_BYTES": MAX_BYTES, "ADMIN_ENABLED": True}


@pytest.fixture
def host_apps(host_apps, callback_receiver):
    """The widget tests' host apps, his-a wanting callbacks (signed with the receiver's secret, conftest's)."""
    secret = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="
    return [app | {"callback_url": callback_receiver.url, "callback_secret": secret} if app["id"] == "his-a" else app
            for app in host_apps]


def callbacks(bff_app, receiver):
    """Deliver what the BFF owes the host app, and return the callbacks' payloads in order."""
    with bff_app.app_context():
        sent = outbox.deliver_due(0.05)
    return [receiver.received.get(timeout=10)[1] for _ in range(sent)]


def preauth(widget, context=None, locale="en", **kwargs):
    return widget(widget="preauth", context=context, locale=locale, **kwargs)


def upload(w, document_type, content=PDF, filename="order.pdf", mimetype="application/pdf"):
    return w.post("/documents", data={"document_type": document_type}, files={"file": (filename, content, mimetype)})


def walk_to_review(w, search, products, documents=()):
    """From the sponsor the host named: its beneficiary form, products, R51 and the documents named."""
    assert step_of(w.get("/start")) in ("sponsor", "beneficiary")  # a sponsor the host named, or the form already
    assert step_of(w.get("/beneficiary")) == "beneficiary"
    found = w.post("/beneficiary", data=search)
    assert step_of(found) == "products", found.text
    for code, quantity in products:
        assert code in w.get("/products/search", params={"q": code}).text
        added = w.post("/products/add", data={"product_code": code, "quantity": str(quantity)})
        assert step_of(added) == "products" and not invalid(added), added.text
    assert step_of(w.post("/products/continue")) == "indications"
    w.post("/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"})
    for kind in documents:
        assert not invalid(upload(w, kind))
    reviewed = w.post("/indications", data={"notes": "three weeks of pain"})
    assert step_of(reviewed) == "review", reviewed.text
    return reviewed


def outcome_of(response):
    return trigger_of(response)["osigu:success"]["outcome"]


SPONSORS = [
    # sponsor, its form's labels (es), the search, products, the documents it asks for them, the step after complete
    ("seguros-andinos", ["Número de póliza"], {"policy_number": "SA-10000001"}, [("LAB-001", 1), ("MED-001", 2)],
     [], "done"),
    ("eps-vital", ["Tipo de documento", "Cédula de ciudadanía", "Número de documento"],
     {"document_type": "CC", "document_number": "1000000002"}, [("MED-001", 1), ("LAB-001", 1)],
     ["PRESCRIPTION", "MEDICAL_ORDER"], "verify"),
    ("ars-caribe", ["Número de carnet", "Fecha de nacimiento"],
     {"card_number": "00100000041", "date_of_birth": "2012-06-30"}, [("LAB-001", 1)], ["MEDICAL_ORDER"], "verify"),
    ("acme-salud", ["Número de empleado", "Fecha de nacimiento"],
     {"employee_number": "EMP-00042", "date_of_birth": "1980-01-01"}, [("MED-001", 1), ("LAB-001", 1)], [], "done"),
]


@pytest.mark.parametrize(("sponsor", "labels", "search", "products", "documents", "after"), SPONSORS,
                         ids=[item[0] for item in SPONSORS])
def test_each_sponsor_with_its_own_form(widget, sponsor, labels, search, products, documents, after):
    w = preauth(widget, context={"sponsor": sponsor}, locale="es")
    form = w.get("/start") and w.get("/beneficiary")
    for label in labels:
        assert label in form.text
    assert set(re.findall(r'<(?:input|select) id="beneficiary-\w+" name="(\w+)"', form.text)) == set(search)
    review = walk_to_review(w, search, products, documents)
    assert all(code in review.text for code, _ in products)
    done = w.post("/complete")
    assert step_of(done) == after
    if after == "done":
        outcome = outcome_of(done)
        assert outcome["status"] == "APPROVED" and all(item["authorization_code"] in done.text
                                                       for item in outcome["authorizations"])


def test_eps_vital_asks_for_the_beneficiarys_code_before_it_decides(widget, read_otp, bff_app):
    w = preauth(widget, context={"sponsor": "eps-vital"})
    walk_to_review(w, {"document_type": "CC", "document_number": "1000000002"}, [("MED-001", 1)], ["PRESCRIPTION"])
    asked = w.post("/complete")
    assert step_of(asked) == "verify" and "osigu:success" not in trigger_of(asked)
    assert "sent a six-digit code to" in asked.text
    with bff_app.app_context():
        preauthorization_id = db.session.scalar(db.select(SessionObject.upstream_id).filter_by(kind="preauthorization"))
    code = read_otp(preauthorization_id)
    wrong = w.post("/verification/otp", data={"otp": "000000" if code != "000000" else "111111"})
    assert "That code is not right" in wrong.text and "Attempts left: 2" in wrong.text
    assert step_of(w.get("/resume")) == "verify"  # a reload comes back to the sign-off
    done = w.post("/verification/otp", data={"otp": code})
    assert done.headers["HX-Retarget"] == "#widget" and step_of(done) == "done"
    outcome = outcome_of(done)
    assert outcome["status"] == "APPROVED" and outcome["preauthorization_id"] == preauthorization_id


def test_ars_caribe_asks_for_a_biometric_reading_and_a_mismatch_is_said(widget):
    w = preauth(widget, context={"sponsor": "ars-caribe"})
    walk_to_review(w, {"card_number": "00100000041", "date_of_birth": "2012-06-30"}, [("LAB-001", 1)],
                   ["MEDICAL_ORDER"])
    asked = w.post("/complete")
    assert step_of(asked) == "verify" and "data-osigu-biometric" in asked.text
    mismatch = w.post("/verification/biometric", data={"modality": "FINGERPRINT",
                                                       "reading": base64.b64encode(b"NO-MATCH print").decode()})
    assert "data-osigu-verification-progress" in mismatch.text  # the component polls itself for the match
    said = w.get("/verification/poll")
    assert said.status_code == 286 and "did not match the beneficiary" in said.text
    w.post("/verification/biometric", data={"modality": "FACE", "reading": base64.b64encode(b"a face").decode()})
    reloaded = w.get("/resume")  # matched meanwhile, but the poll that would complete it never came
    assert step_of(reloaded) == "verify" and "data-osigu-biometric" not in reloaded.text
    assert 'hx-post="/widgets/preauth/complete"' in reloaded.text  # what completes it now
    done = w.get("/verification/poll")  # or the component's own poll, had it come
    assert done.status_code == 286 and step_of(done) == "done" and outcome_of(done)["status"] == "APPROVED"


def test_in_portuguese_the_sponsors_labels_fall_back_to_spanish(widget):
    w = preauth(widget, context={"sponsor": "eps-vital"}, locale="pt")
    sponsor = w.get("/start")
    assert "Análises clínicas" in sponsor.text and "Fórmula médica" in sponsor.text  # ours in pt, Osigu's in es
    form = w.get("/beneficiary")
    assert "Tipo de documento" in form.text and "Cédula de ciudadanía" in form.text and "Pesquisar" in form.text


def test_the_sponsor_is_chosen_and_says_up_front_what_it_covers_requires_and_asks(widget):
    w = preauth(widget)
    first = w.get("/start")
    assert step_of(first) == "sponsor" and "EPS Vital" in first.text and "Plan de Salud Acme" in first.text
    chosen = w.post("/sponsor", data={"sponsor_slug": "eps-vital"})
    assert "Medications" in chosen.text and "Laboratory tests" in chosen.text and "Imaging studies" not in chosen.text
    assert "Prescription" in chosen.text and "Medical order" in chosen.text  # which documents each type needs
    assert "a one-time code sent to the beneficiary" in chosen.text  # OTP asked before deciding
    assert step_of(w.post("/sponsor", data={"sponsor_slug": "../oauth"})) == "sponsor"  # refused, nothing upstream


def test_an_approved_request_reports_codes_and_expiry_once_with_a_copy_button_and_a_callback(bff_app, widget):
    w = preauth(widget)
    fill_in_ana_at_seguros_andinos(w)
    done = w.post("/complete")
    outcome = outcome_of(done)
    assert set(outcome) == {"preauthorization_id", "status", "authorizations"} and outcome["status"] == "APPROVED"
    for item in outcome["authorizations"]:
        assert re.match(r"^AUT-\d{4}-\d{8}$", item["authorization_code"]) and item["expires_at"]
        assert f'data-osigu-copy="{item["authorization_code"]}"' in done.text
    assert outcome_of(w.post("/complete")) == outcome  # a double click replays it
    kept = w.post("/reopen")  # only a request rejected whole may be sent again (Osigu's 061-118)
    assert step_of(kept) == "done" and outcome["authorizations"][0]["authorization_code"] in kept.text
    with bff_app.app_context():
        owners = db.session.scalars(db.select(SessionObject.kind).filter_by(
            upstream_id=outcome["preauthorization_id"])).all()
    assert owners == ["preauthorization"]


def test_the_request_is_bound_to_the_session_as_soon_as_it_is_opened(bff_app, widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    w.get("/start")
    w.post("/beneficiary", data={"policy_number": "SA-10000001"})
    w.post("/products/add", data={"product_code": "LAB-001", "quantity": "1"})
    assert step_of(w.post("/products/continue")) == "indications"
    with bff_app.app_context():
        bound = db.session.scalars(db.select(SessionObject.upstream_id).filter_by(kind="preauthorization")).all()
    assert len(bound) == 1 and bound[0].startswith("par")


def test_a_partial_approval_shows_each_group_and_the_outcome_names_each(widget, api):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    # sildenafil is excluded, a lab is approved at once, a CT is reviewed
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("MED-287", 1), ("LAB-001", 1), ("IMG-020", 1)],
                   ["MEDICAL_ORDER"])
    done = w.post("/complete")
    outcome = outcome_of(done)
    assert outcome["status"] == "PARTIALLY_APPROVED"
    by_status = {item["status"]: item for item in outcome["authorizations"]}
    assert set(by_status) == {"APPROVED", "PENDING", "REJECTED"}
    assert by_status["REJECTED"] == {"authorization_code": None, "status": "REJECTED", "product_codes": ["MED-287"],
                                     "reason": "EXCLUDED_PRODUCT"}
    assert by_status["PENDING"]["product_codes"] == ["IMG-020"] and by_status["PENDING"]["authorization_code"]
    assert "The sponsor excludes this product." in done.text and "Under review" in done.text
    assert 'hx-trigger="load delay:2s"' in done.text  # the pended group is followed


def test_a_pended_decision_reaches_the_open_widget_as_authorization_decided(widget, api):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    pended = outcome_of(w.post("/complete"))
    assert pended["status"] == "PENDING"
    code = pended["authorizations"][0]["authorization_code"]
    still = w.get("/result", params={"wait": 2})
    assert still.status_code == 200 and "osigu:authorization_decided" not in trigger_of(still)
    assert 'hx-trigger="load delay:4s"' in still.text  # asked again less and less often
    decided = api().post(f"/sandbox/v1/authorizations/{code}/decision", json={"status": "APPROVED"})
    assert decided.status_code == 200, decided.text
    answer = w.get("/result", params={"wait": 4})
    assert answer.status_code == 286 and "hx-trigger" not in answer.text  # polling stops
    assert answer.headers["HX-Retarget"] == "#widget" and "Authorized" in answer.text  # the heading says it too
    assert trigger_of(answer)["osigu:authorization_decided"] == {
        "decisions": [{"authorization_code": code, "status": "APPROVED"}]}
    assert f'data-osigu-copy="{code}"' in answer.text
    again = w.get("/result", params={"wait": 8})
    assert again.status_code == 286 and "osigu:authorization_decided" not in trigger_of(again)  # told once
    assert step_of(w.get("/resume")) == "done" and "Authorized" in w.get("/resume").text


@pytest.mark.parametrize(("webhook_delivered", "wait"), [(True, 8), (False, 60)])
def test_the_poll_asks_osigu_once_its_webhook_reports_the_decision_or_at_the_longest_wait(
        widget, api, webhooks_to_bff, webhook_delivered, wait):
    deliver = webhooks_to_bff("demo-hospital")
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("LAB-001", 1), ("IMG-020", 1)], ["MEDICAL_ORDER"])
    outcome = outcome_of(w.post("/complete"))
    code = next(item["authorization_code"] for item in outcome["authorizations"] if item["status"] == "PENDING")
    deliver()  # the lab's approval at completion: the webhook is seen to report on this request
    assert api().post(f"/sandbox/v1/authorizations/{code}/decision", json={"status": "APPROVED"}).status_code == 200
    quiet = w.get("/result", params={"wait": 4})  # Osigu has decided, but its webhook has not said so yet
    assert quiet.status_code == 200 and "osigu:authorization_decided" not in trigger_of(quiet)
    if webhook_delivered:
        deliver()
    told = w.get("/result", params={"wait": wait})
    assert told.status_code == 286 and trigger_of(told)["osigu:authorization_decided"] == {
        "decisions": [{"authorization_code": code, "status": "APPROVED"}]}
    assert told.text.count("valid until") == 2  # Osigu's own answer, with the CT's expiry too


def test_a_rejected_request_is_fixed_and_sent_again_keeping_its_history(bff_app, widget, callback_receiver):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("MED-287", 1)])
    first = outcome_of(w.post("/complete"))
    assert first["status"] == "REJECTED"
    reopened = w.post("/reopen")
    assert step_of(reopened) == "indications" and "Attempt 1" not in reopened.text
    assert step_of(w.post("/indications", data={"notes": "the patient has no alternative"})) == "review"
    assert "Attempt 1" in w.get("/review").text  # the earlier attempt is visible
    second = w.post("/complete")
    assert outcome_of(second)["preauthorization_id"] == first["preauthorization_id"]
    assert "Attempt 1" in second.text
    sent = callbacks(bff_app, callback_receiver)  # one per attempt, each with its own outcome
    assert [payload["type"] for payload in sent] == ["widget.preauth.completed"] * 2
    assert sent[0]["data"] == first | {"user_id": "dr-7"} and sent[1]["data"]["status"] == "REJECTED"


def test_the_beneficiary_form_explains_what_stops_a_request(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    w.get("/start")
    malformed = w.post("/beneficiary", data={"policy_number": "10000001"})
    assert invalid(malformed) and "Write it as SA-00000000." in malformed.text
    missing = w.post("/beneficiary", data={"policy_number": "SA-19999999"})  # 061-101
    assert invalid(missing) and "has no beneficiary with these details" in missing.text
    assert "osigu:error" not in trigger_of(missing)  # the user's to check, not the host's
    suspended = w.post("/beneficiary", data={"policy_number": "SA-10000003"})
    assert invalid(suspended) and "Camila Torres" in suspended.text and "suspended" in suspended.text
    jorge = w.post("/beneficiary", data={"policy_number": "SA-10000002"})
    assert step_of(jorge) == "products" and "The beneficiary's plan excludes: Imaging studies" in jorge.text
    found = w.get("/products/search", params={"q": "IMG-020"})
    assert "Not covered by the beneficiary's plan" in found.text and 'name="product_code"' not in found.text
    refused = w.post("/products/add", data={"product_code": "IMG-020", "quantity": "1"})
    assert invalid(refused) and "IMG-020" not in refused.text.split("On this request")[1]


def test_products_the_host_named_are_prefilled_and_unknown_ones_said(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos", "products": [
        {"product_code": "LAB-001", "quantity": 2}, {"product_code": "ZZZ-404", "quantity": 1}]})
    w.get("/start")
    products = w.post("/beneficiary", data={"policy_number": "SA-10000001"})
    assert step_of(products) == "products" and 'name="quantity" type="number" min="1" max="1000" value="2"' in \
        products.text
    assert "not among your registered products: ZZZ-404" in products.text


def test_a_sponsor_that_does_not_cover_a_type_never_offers_it(widget):
    w = preauth(widget, context={"sponsor": "acme-salud"})
    w.get("/start")
    w.post("/beneficiary", data={"employee_number": "EMP-00042", "date_of_birth": "1980-01-01"})
    found = w.get("/products/search", params={"q": "IMG-001"})
    assert "Not covered by this sponsor" in found.text and 'name="product_code"' not in found.text


def test_each_product_says_whether_it_is_approved_at_once_reviewed_or_rejected_before_it_is_asked_for(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    w.get("/start")
    w.post("/beneficiary", data={"policy_number": "SA-10000001"})
    notes = {code: w.get("/products/search", params={"q": code}).text for code in ("LAB-001", "IMG-020", "MED-287")}
    assert "Covered: approved at once" in notes["LAB-001"]
    assert "Covered after the sponsor's review" in notes["IMG-020"]  # a CT: Seguros Andinos reviews tomography
    assert "Excluded by this sponsor: it will be rejected" in notes["MED-287"]
    assert all('name="product_code"' in text for text in notes.values())  # the sponsor decides each; none is hidden
    added = w.post("/products/add", data={"product_code": "IMG-020", "quantity": "1"})
    assert "Covered after the sponsor's review" in added.text


@pytest.mark.parametrize(("fault", "said"), [
    ({"error_rate": 1}, "Osigu is not answering right now"),
    ({"rate_limit_rate": 1, "retry_after": 7}, "Osigu is busy, try again in 7 s"),
])
def test_osigu_failing_at_complete_is_said_in_place_and_the_retry_completes_once(widget, api, fault, said):
    w = preauth(widget)
    fill_in_ana_at_seguros_andinos(w)
    faults = api().put("/sandbox/v1/faults", json={"rules": [
        {"path_prefix": "/arc/v1/preauthorizations/", "methods": ["POST"], "times": 1} | fault]})
    assert faults.status_code == 200, faults.text
    failed = w.post("/complete")
    assert invalid(failed) and step_of(failed) == "review" and said in failed.text
    assert trigger_of(failed)["osigu:error"]["problem"]["retryable"] is True
    assert outcome_of(w.post("/complete"))["status"] == "APPROVED"


def test_a_product_no_longer_registered_is_refused_with_what_to_do(widget, api):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    w.get("/start")
    w.post("/beneficiary", data={"policy_number": "SA-10000001"})
    assert "MED-042" in w.get("/products/search", params={"q": "MED-042"}).text
    w.post("/products/add", data={"product_code": "MED-042", "quantity": "1"})
    assert api("demo-hospital").delete("/arc/v1/providers/products/MED-042").status_code == 204
    refused = w.post("/products/continue")  # the BFF's list is a minute old: Osigu says 061-116
    assert invalid(refused) and step_of(refused) == "products"
    assert trigger_of(refused)["osigu:error"]["problem"]["code"] == "061-116"
    assert "A product is not registered by your provider" in refused.text


def test_a_request_completed_by_an_answer_the_bff_lost_is_picked_up(widget, bff_app, hospital_for):
    w = preauth(widget)
    fill_in_ana_at_seguros_andinos(w)
    with bff_app.app_context():
        preauthorization_id = db.session.scalar(db.select(SessionObject.upstream_id).filter_by(kind="preauthorization"))
    assert hospital_for(f"/arc/v1/preauthorizations/{preauthorization_id}/complete").status_code == 200
    assert outcome_of(w.post("/complete"))["preauthorization_id"] == preauthorization_id  # 061-111, then GET


def test_a_document_removed_through_another_door_is_asked_for_again(widget, bff_app, api):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    with bff_app.app_context():
        preauthorization_id = db.session.scalar(db.select(SessionObject.upstream_id).filter_by(kind="preauthorization"))
    hospital = api("demo-hospital")
    base = f"/arc/v1/preauthorizations/{preauthorization_id}"
    document_id = hospital.get(base).json()["documents"][0]["document_id"]
    assert hospital.delete(f"{base}/documents/{document_id}").status_code == 204
    refused = w.post("/complete")  # 061-113
    assert invalid(refused) and step_of(refused) == "indications"
    assert trigger_of(refused)["osigu:error"]["problem"]["code"] == "061-113"
    assert 'data-osigu-required="MEDICAL_ORDER" data-provided="no"' in refused.text
    assert "The sponsor requires more documents" in refused.text
    reloaded = w.get("/resume")
    assert step_of(reloaded) == "indications" and 'data-provided="no"' in reloaded.text


@pytest.fixture
def hospital_for(api):
    """POST to the simulator as demo-hospital (the BFF's own credentials in these tests)."""
    return lambda path: api("demo-hospital").post(path)


def test_documents_are_ticked_off_as_they_arrive_and_removable(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    page = w.get("/indications")
    assert 'data-osigu-required="MEDICAL_ORDER" data-provided="yes"' in page.text
    document_id = re.search(r'name="document_id" value="([^"]+)"', page.text).group(1)
    removed = w.post("/documents/remove", data={"document_id": document_id})
    assert 'data-osigu-required="MEDICAL_ORDER" data-provided="no"' in removed.text
    assert step_of(w.get("/review")) == "indications"  # a required document is missing again
    png = upload(w, "MEDICAL_ORDER", PNG, "scan.png", "image/png")
    assert 'data-provided="yes"' in png.text and "scan.png" in png.text


@pytest.mark.parametrize(("content", "filename", "message"), [
    (b"%PDF-1.4\n" + b"x" * MAX_BYTES, "big.pdf", "larger than"),
    (b"%PDF-1.4\n" + b"x" * (4 * MAX_BYTES), "huge.pdf", "larger than"),  # refused before it is parsed
    (b"MZ\x90\x00 a program", "program.pdf", "none of them"),  # named .pdf, is not
    (b"GIF89a", "scan.gif", "none of them"),
])
def test_uploads_too_large_or_of_another_type_are_refused_in_place(widget, content, filename, message):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    refused = upload(w, "CLINICAL_HISTORY", content, filename)
    assert invalid(refused) and step_of(refused) == "indications" and message in refused.text
    assert 'aria-invalid="true"' in refused.text and filename not in refused.text.split("Documents attached")[1]


def test_uploads_pass_through_as_they_arrive_and_one_over_the_limit_never_reaches_osigu(widget, bff_app, api):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    with bff_app.app_context():
        preauthorization_id = db.session.scalar(db.select(SessionObject.upstream_id).filter_by(kind="preauthorization"))
    documents = f"/arc/v1/preauthorizations/{preauthorization_id}"

    def sent_in_pieces(document_type, content):
        """The browser's multipart body in small pieces, its length unsaid (chunked), as a slow upload arrives."""
        yield (f'--b\r\nContent-Disposition: form-data; name="document_type"\r\n\r\n{document_type}\r\n'
               '--b\r\nContent-Disposition: form-data; name="file"; filename="history.pdf"\r\n'
               'Content-Type: application/octet-stream\r\n\r\n').encode()
        yield from (content[start:start + 1000] for start in range(0, len(content), 1000))
        yield b"\r\n--b--\r\n"

    history = b"%PDF-1.4\n" + bytes(range(256)) * 40
    attached = w.post("/documents", data=sent_in_pieces("CLINICAL_HISTORY", history),
                      headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert not invalid(attached) and "history.pdf" in attached.text
    at_osigu = api("demo-hospital").get(documents).json()["documents"]
    assert [(item["document_type"], item["sha256"]) for item in at_osigu] == [
        ("MEDICAL_ORDER", hashlib.sha256(PDF).hexdigest()), ("CLINICAL_HISTORY", hashlib.sha256(history).hexdigest())]
    # One byte over the sponsor's limit: cut off on its way, by the BFF (Osigu never answered), nothing attached.
    refused = upload(w, "CLINICAL_HISTORY", b"%PDF-1.4\n" + b"x" * (MAX_BYTES - 8))
    assert invalid(refused) and "larger than" in refused.text and "osigu:error" not in trigger_of(refused)
    assert len(api("demo-hospital").get(documents).json()["documents"]) == 2


def test_reloading_and_a_new_session_naming_the_request_resume_it(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    assert step_of(w.get("/start")) == "review"  # a reload of the iframe
    outcome = outcome_of(w.post("/complete"))
    later = preauth(widget, context={"preauthorization_id": outcome["preauthorization_id"]})
    resumed = later.get("/start")
    assert step_of(resumed) == "done" and outcome["authorizations"][0]["authorization_code"] in resumed.text
    assert later.get("/result").status_code == 200  # the new session owns the request and follows it
    stranger = preauth(widget, context={"preauthorization_id": outcome["preauthorization_id"]},
                       user={"id": "dr-9", "name": "Dr. Otro", "role": "doctor"})
    assert step_of(stranger.get("/start")) == "sponsor"  # another user's request is not theirs to resume


def test_cancelling_exits_from_the_step_the_user_was_on(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    w.get("/start")
    w.post("/beneficiary", data={"policy_number": "SA-10000001"})
    cancelled = w.post("/cancel")
    assert trigger_of(cancelled)["osigu:exit"] == {"reason": "cancelled", "step": "products"}


class PrimaryAction(HTMLParser):
    """The request the step's one data-osigu-primary element makes, as htmx would send it: (method, path, form)."""

    def __init__(self, html):
        super().__init__()
        self.forms, self.found, self.select = [], None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "values": {}})
        elif tag in ("input", "textarea") and self.forms and attrs.get("name"):
            self.forms[-1]["values"][attrs["name"]] = attrs.get("value", "")
        elif tag == "select" and self.forms:
            self.select = attrs.get("name")
        elif tag == "option" and self.select and ("selected" in attrs or self.select not in self.forms[-1]["values"]):
            self.forms[-1]["values"][self.select] = attrs.get("value", "")
        if "data-osigu-primary" in attrs:
            source = attrs if ("hx-get" in attrs or "hx-post" in attrs) else self.forms[-1]["attrs"]
            values = {} if source is attrs else self.forms[-1]["values"]
            method = "get" if "hx-get" in source else "post"
            self.found = (method, source[f"hx-{method}"].removeprefix("/widgets/preauth"), values)

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def test_with_a_context_that_names_everything_the_happy_path_is_primary_actions_only(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos", "beneficiary": {"policy_number": "SA-10000001"},
                                 "products": [{"product_code": "LAB-001", "quantity": 1},
                                              {"product_code": "MED-001", "quantity": 3}],
                                 "diagnoses": ["R51"]})
    screen, visited = w.get("/start"), []
    while step_of(screen) != "done":
        visited.append(step_of(screen))
        assert len(visited) < 10, visited
        method, url, values = PrimaryAction(screen.text).found
        screen = getattr(w, method)(url, **({"params": values} if method == "get" else {"data": values}))
    assert visited == ["sponsor", "beneficiary", "products", "indications", "review"]
    outcome = trigger_of(screen)["osigu:success"]["outcome"]
    assert outcome["status"] == "APPROVED"
    assert sorted(code for item in outcome["authorizations"] for code in item["product_codes"]) == ["LAB-001",
                                                                                                     "MED-001"]


PREAUTH_FORMS = [
    ("POST", "/sponsor", {"sponsor_slug": "seguros-andinos"}),
    ("POST", "/beneficiary", {"policy_number": "SA-10000001"}),
    ("GET", "/products/search", {"q": "LAB"}),
    ("POST", "/products/add", {"product_code": "LAB-001", "quantity": "1"}),
    ("POST", "/products/remove", {"product_code": "LAB-999"}),
    ("GET", "/diagnoses/search", {"q": "cefalea"}),
    ("POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"}),
    ("POST", "/indications", {"notes": "three weeks"}),
    ("POST", "/documents", {"document_type": "MEDICAL_ORDER"}),
    ("POST", "/documents/remove", {"document_id": "doc_1"}),
    ("GET", "/result", {"wait": "4"}),
    ("POST", "/verification/otp", {"otp": "123456"}),
]


@pytest.mark.parametrize(("method", "url", "form"), PREAUTH_FORMS, ids=[url for _, url, _ in PREAUTH_FORMS])
def test_hostile_text_in_any_field_is_refused_or_escaped_never_a_500(widget, method, url, form):
    w = preauth(widget, context={"sponsor": "seguros-andinos"})
    walk_to_review(w, {"policy_number": "SA-10000001"}, [("IMG-020", 1)], ["MEDICAL_ORDER"])
    w.get("/indications")
    for field in form:
        for value in HOSTILE:
            data = form | {field: value}
            files = {"file": ("x.pdf", PDF, "application/pdf")} if url == "/documents" else None
            answer = w.get(url, params=data) if method == "GET" else w.post(url, data=data, files=files)
            assert answer.status_code < 500, (url, field, value[:40], answer.text[:300])
            assert "<script>alert" not in answer.text and "<img src=x" not in answer.text, (url, field)


def test_an_approved_code_is_dispensed_in_the_dispensing_widget(widget, api):
    w = preauth(widget)
    fill_in_ana_at_seguros_andinos(w, products=(("MED-001", 2),))
    code = outcome_of(w.post("/complete"))["authorizations"][0]["authorization_code"]
    pharmacy = widget(widget="dispensing", locale="en", context={"code": code})
    products = pharmacy.get("/resume")
    assert step_of(products) == "products" and "MED-001" in products.text
    asked = pharmacy.post("/complete", data=products_form(products))
    assert step_of(asked) == "verify"  # Seguros Andinos asks the beneficiary's code at the counter
    otp = api().get("/sandbox/v1/messages").json()["data"][0]["otp_code"]
    outcome = outcome_of(pharmacy.post("/verification/otp", data={"otp": otp}))
    assert outcome["code"] == code and outcome["code_type"] == "AUTHORIZATION" and outcome["status"] == "DISPENSED"
