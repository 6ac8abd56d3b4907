"""Coverage cards in the EHR user's language: their Practitioner's (the `user` prefetch), else Accept-Language,
else English; every card kind's summary within CDS Hooks' 140 characters in each language."""

import pytest
import requests
from test_cds_hooks import SIGN, hook_body

EVERY_KIND = ("LAB-001", "IMG-020", "MED-287", "MED-002")  # preauth link, not covered, and with an equivalent
TEXTS = {
    "es": {"not covered": "Seguros Andinos no cubre", "equivalent": "; sí cubre", "needs": "exige una preautorización",
           "link": "Solicitar la preautorización", "order": "en su lugar", "detail": "enviar la orden médica",
           "reviewed": "revisión del pagador", "sign-off": "El beneficiario confirma con un código de un solo uso o "
                                                            "una lectura biométrica.", "action": "Cobertura de"},
    "en": {"not covered": "is not covered by Seguros Andinos", "equivalent": "; ", "needs": "needs a pre-authorization",
           "link": "Request the pre-authorization", "order": "instead", "detail": "send the medical order",
           "reviewed": "reviewed by the sponsor", "sign-off": "The beneficiary signs off with a one-time code or a "
                                                             "biometric reading.", "action": "Coverage by"},
}


def practitioner(*languages, r5=False):
    concepts = [{"coding": [{"system": "urn:ietf:bcp:47", "code": code}]} for code in languages]
    return {"resourceType": "Practitioner", "id": "dr-7",
            "communication": [{"language": concept} for concept in concepts] if r5 else concepts}


@pytest.fixture
def every_rule(sponsor_rules):
    """Amoxil excluded (generic amoxicillin is covered), sign-off by OTP or a biometric reading."""
    sponsor_rules("seguros-andinos", excluded_products=["MED-002", "MED-287"],
                  verification={"preauthorization": ["OTP", "BIOMETRIC"], "dispensing": ["OTP"]})


def cards_of(answered):
    """The answer's cards, each summary within CDS Hooks' 140 characters."""
    assert answered.status_code == 200, answered.text
    cards = answered.json()["cards"]
    assert all(len(card["summary"]) <= 140 for card in cards)
    return cards


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_card_speaks_the_practitioners_language(call_hook, every_rule, language):
    body = hook_body(*EVERY_KIND)
    body["prefetch"]["user"] = practitioner(f"{language}-CO", r5=language == "en")
    answered = call_hook(SIGN, body)
    cards, said = cards_of(answered), TEXTS[language]
    [alone, with_equivalent] = [card for card in cards if "links" not in card]
    [preauth] = [card for card in cards if "links" in card]
    assert said["not covered"] in alone["summary"] and said["equivalent"] in with_equivalent["summary"]
    assert said["order"] in with_equivalent["suggestions"][0]["label"]
    assert said["needs"] in preauth["summary"] and preauth["links"][0]["label"] == said["link"]
    assert said["detail"] in preauth["detail"] and said["reviewed"] in preauth["detail"]
    assert preauth["detail"].endswith(said["sign-off"])
    assert all(action["description"].startswith(said["action"]) for action in answered.json()["systemActions"])
    [info] = cards_of(call_hook(SIGN, hook_body("LAB-001") | {"prefetch": body["prefetch"]}))
    assert info["indicator"] == "info" and info["links"][0]["label"] == said["link"]


@pytest.mark.parametrize("language", ["es", "en"])
def test_summaries_stay_within_140_characters_whatever_the_names(call_hook, every_rule, simulator_app, language):
    from simulator.db import db
    from simulator.models import Sponsor

    with simulator_app.app_context():
        sponsor = db.session.scalar(db.select(Sponsor).filter_by(slug="seguros-andinos"))
        sponsor.name = "Seguros Andinos de Salud y Bienestar Integral para Trabajadores Independientes " * 2
        db.session.commit()
    body = hook_body(*EVERY_KIND)
    body["prefetch"]["user"] = practitioner(language)
    cards = cards_of(call_hook(SIGN, body)) + cards_of(call_hook(SIGN, hook_body("LAB-001") | {
        "prefetch": body["prefetch"]}))
    assert len(cards) == 4 and all(card["summary"].endswith("…") for card in cards)


def test_without_a_practitioner_accept_language_decides_and_then_english(call_hook, ehr, bff_url):
    url = f"{bff_url}/cds-services/{SIGN}"
    spanish = requests.post(url, json=hook_body("LAB-001"), timeout=15, headers={
        "Authorization": f"Bearer {ehr.token(url)}", "Accept-Language": "es-CO,es;q=0.9,en;q=0.5"})
    assert cards_of(spanish)[0]["links"][0]["label"] == "Solicitar la preautorización"
    assert cards_of(call_hook(SIGN, hook_body("LAB-001")))[0]["links"][0]["label"] == "Request the pre-authorization"
    body = hook_body("LAB-001")
    body["prefetch"]["user"] = practitioner("fr", "en")  # the first language the widgets speak
    english = requests.post(url, json=body, timeout=15, headers={
        "Authorization": f"Bearer {ehr.token(url)}", "Accept-Language": "es"})
    assert cards_of(english)[0]["links"][0]["label"] == "Request the pre-authorization"
