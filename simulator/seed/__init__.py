"""Seed the sandbox: demo providers and clients, the catalogues, registrations and patients."""

import csv
import json
from datetime import date
from importlib import resources

from cryptography.hazmat.primitives import serialization

from ..db import db
from ..models import Beneficiary, CatalogProduct, OAuthClient, Patient, Provider, ProviderProduct, Sponsor

ALL_SCOPES = (
    "catalogs:read providers:read providers:write ehr:read ehr:write "
    "dispensing:read dispensing:write arc:read arc:write claims:read claims:write"
)
CLINIC_SCOPES = (
    "catalogs:read providers:read providers:write ehr:read ehr:write arc:read arc:write claims:read claims:write"
)
PHARMACY_SCOPES = "catalogs:read providers:read providers:write dispensing:read dispensing:write"

# (client_id, secret, provider slug, name, country, scopes, national repository id)
DEMO_IDENTITIES = (
    ("demo-clinic", "demo-clinic-secret", "clinica-demo", "Clínica Demo", "CO", CLINIC_SCOPES, None),
    ("demo-pharmacy", "demo-pharmacy-secret", "farmacia-demo", "Farmacia Demo", "CO", PHARMACY_SCOPES, None),
    ("demo-hospital", "demo-hospital-secret", "hospital-demo", "Hospital Demo", "ES", ALL_SCOPES, "ES-RNR-0000001"),
)

# Left unregistered for the clinic so seed 003's walkthrough (register MED-042) works as written.
CLINIC_ONBOARDING_EXAMPLE = "MED-042"


def _rows(name):
    with resources.files(__package__).joinpath(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def demo_signing_key_pem():
    """Return the sandbox-only private key the demo providers sign v2 prescriptions with."""
    return resources.files(__package__).joinpath("demo_signing_key.pem").read_bytes()


def _demo_public_key():
    private_key = serialization.load_pem_private_key(demo_signing_key_pem(), password=None)
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _medication(row):
    """A catalogue medication from its CSV row, with its Spanish and Portuguese words."""
    product = CatalogProduct(
        code=row["product_code"],
        product_type="MEDICATION",
        inn=row["inn"],
        strength=row["strength"],
        form=row["form"],
        presentation=row["presentation"],
        brand=row["brand"] or None,
        atc_code=row["atc_code"],
        controlled=row["controlled"] == "yes",
        gtin=row["gtin"],
        translations={language: {field: row[f"{field}_{language}"] for field in ("inn", "form", "presentation")}
                      for language in ("es", "pt")},
    )
    product.name = product.display_name("en")
    return product


def _catalogue():
    products = [_medication(row) for row in _rows("medications.csv")]
    for file_name, product_type in (("labs.csv", "LAB"), ("imaging.csv", "IMAGING"), ("procedures.csv", "PROCEDURE")):
        products += [
            CatalogProduct(
                code=row["product_code"], product_type=product_type, name=row["name"], category=row["category"]
            )
            for row in _rows(file_name)
        ]
    for product in products:
        product.index_for_search()
    return products


def _registrations(provider, products):
    """Register what each demo provider stocks or performs."""
    if provider.slug == "farmacia-demo":
        chosen = [p for p in products if p.product_type == "MEDICATION"]
    elif provider.slug == "clinica-demo":
        chosen = [p for p in products if not p.brand and p.code != CLINIC_ONBOARDING_EXAMPLE]
    else:
        chosen = products
    return [ProviderProduct(provider=provider, product_code=p.code) for p in chosen]


def seed():
    """Fill an empty database with the sandbox's demo data."""
    products = _catalogue()
    db.session.add_all(products)
    public_key = _demo_public_key()
    for client_id, secret, slug, name, country, scopes, repository_id in DEMO_IDENTITIES:
        provider = Provider(
            slug=slug,
            name=name,
            country=country,
            national_repository_id=repository_id,
            signing_public_key=public_key if repository_id else None,
        )
        client = OAuthClient(client_id=client_id, client_secret=secret, provider=provider)
        client.set_client_metadata({"client_name": name, "grant_types": ["client_credentials"], "scope": scopes})
        db.session.add_all([provider, client, *_registrations(provider, products)])
    for row in _rows("patients.csv"):
        db.session.add(
            Patient(
                id=row["patient_id"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                document_type=row["document_type"],
                document_number=row["document_number"],
                date_of_birth=date.fromisoformat(row["date_of_birth"]),
                sex=row["sex"] or None,
                email=row["email"] or None,
                phone=row["phone"] or None,
            )
        )
    _seed_sponsors()
    db.session.commit()


def _seed_sponsors():
    """Add the sponsors, which differ in every rule, and their beneficiaries."""
    text = resources.files(__package__).joinpath("sponsors.json").read_text(encoding="utf-8")
    sponsors = {item["slug"]: Sponsor(**item) for item in json.loads(text)}
    db.session.add_all(sponsors.values())
    for row in _rows("beneficiaries.csv"):
        db.session.add(Beneficiary(
            id=row["beneficiary_id"],
            sponsor=sponsors[row["sponsor"]],
            first_name=row["first_name"],
            last_name=row["last_name"],
            document_type=row["document_type"],
            document_number=row["document_number"],
            date_of_birth=date.fromisoformat(row["date_of_birth"]),
            policy_number=row["policy_number"] or None,
            card_number=row["card_number"] or None,
            employee_number=row["employee_number"] or None,
            plan=row["plan"],
            status=row["status"],
            not_covered=row["not_covered"].split() if row["not_covered"] else [],
            phone=row["phone"] or None,
            email=row["email"] or None,
        ))


def diagnosis_synonyms():
    """Return (term, ICD-10 code) pairs that let everyday and Spanish words find a diagnosis."""
    return [(row["term"], row["diagnosis_code"]) for row in _rows("diagnosis_synonyms.csv")]
