"""The simulator's tables, one module per API family."""

from .catalog import CatalogProduct, ProviderProduct
from .dispensing import Dispensation, DispensationLine, VerificationChallenge
from .ehr import Patient, Prescription, PrescriptionLine
from .platform import IdempotencyRecord, OAuthClient, OAuthToken, Provider
from .sandbox import SandboxMessage, WebhookDelivery, WebhookEndpoint

__all__ = [
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
