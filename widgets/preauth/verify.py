"""The beneficiary's sign-off the sponsor asks for (EPS Vital: OTP, ARS Caribe: biometric), through the kit's
verification component (widgets/verification.py) with this widget's adapter over the request's endpoints."""

from bff.redemption import ERROR_KINDS
from bff.upstream import UpstreamError, path
from widgets import verification
from widgets.flow import idempotency_key
from widgets.session import upstream

from . import bp, complete
from .draft import PENDING_VERIFICATION, first_unfinished, flow

BASE = "/arc/v1/preauthorizations/{}"


@flow.renders("verify")
def render_verify(status=200, alert=None):
    """Render the sign-off step: the component, reading Osigu's verification status of the request."""
    try:
        state = PreauthVerifier(flow.draft()).status()
    except verification.Refused as error:
        return flow.refuse(complete.render_review, error.__cause__)
    return flow.render_step("verify", status, alert, verification=verification.context(state),
                            methods=flow.draft().verification_methods(), verified=state["status"] == "VERIFIED")


class PreauthVerifier:
    """The verification component's adapter for this flow's request, waiting for the beneficiary's sign-off."""

    def __init__(self, current):
        self.current = current

    def status(self):
        return self._asked("GET", "/verification-status")

    def send_otp(self):
        """Osigu texts a new code when the request is completed again while unverified and no code is waiting."""
        state = self.status()
        if state["status"] == "VERIFIED":
            raise verification.Refused("ALREADY_VERIFIED")
        last = (state.get("otp") or {}).get("expires_at")  # a new key once the last code expired or was spent
        body = {"preauthorization_id": self.current.preauthorization_id, "attempt": self.current.attempt,
                "after": PENDING_VERIFICATION, "last_code_expires": last}
        self._asked("POST", "/complete", idempotency_key=idempotency_key("send-otp", body))
        return self.status()

    def validate_otp(self, otp):
        return self._asked("POST", "/otp", json={"otp": otp})

    def submit_biometric(self, modality, reading):
        return self._asked("POST", "/biometric", json={"modality": modality, "reading": reading})

    def poll(self):
        return self.status()

    def verified(self):
        """Once verified the request is completed: the decision per group, and the outcome to the host."""
        return complete.complete()

    def refused(self, error):
        return flow.refuse(render_verify, error.__cause__)

    def _asked(self, method, suffix, **kwargs):
        try:
            return upstream().request(method, path(BASE + suffix, self.current.preauthorization_id), **kwargs).parsed
        except UpstreamError as error:
            details = error.details if isinstance(error.details, dict) else {}
            kind = "UPSTREAM_UNAVAILABLE" if error.retryable else ERROR_KINDS.get(error.error_code, "UPSTREAM_REFUSED")
            raise verification.Refused(kind, details.get("attempts_left")) from error


def verifier():
    """The adapter for this flow's request while it waits for the beneficiary's sign-off, else None."""
    current = flow.existing()
    if current is None or current.outcome or current.upstream_status != PENDING_VERIFICATION:
        return None
    return PreauthVerifier(current)


verification.mount(bp, verifier, lambda: flow.show(first_unfinished(flow.draft())))
