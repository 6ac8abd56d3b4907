"""The simulator's tables, one module per API family."""

from .arc import Authorization, Beneficiary, Claim, Preauthorization, Settlement, Sponsor, SupportDocument
from .catalog import CatalogProduct, ProviderProduct
from .dispensing import Dispensation, DispensationLine, VerificationChallenge
from .ehr import Patient, Prescription, PrescriptionLine
from .platform import IdempotencyRecord, OAuthClient, OAuthToken, Provider
from .sandbox import SandboxMessage, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Authorization",
    "Beneficiary",
    "Claim",
    "Preauthorization",
    "Settlement",
    "Sponsor",
    "SupportDocument",
    "CatalogProduct",
    "Dispensation",
    "DispensationLine",
    "IdempotencyRecord",
    "OAuthClient",
    "OAuthToken",
    "Patient",
    "Prescription",
    "PrescriptionLine",
    "Provider",
    "ProviderProduct",
    "SandboxMessage",
    "VerificationChallenge",
    "WebhookDelivery",
    "WebhookEndpoint",
]
