"""What the pharmacist reads for each refusal the redemption (bff/redemption.py) can raise, and what to do next."""

from flask_babel import gettext as _


def known_errors():
    """{Osigu error code: the pharmacist's message}, for errors met outside the redemption (the kit's alerts)."""
    return {"081-124": _("The prescriber cancelled this prescription: do not dispense it.")}


def refusal_messages():
    """{redemption error kind: what it means at the counter and what to do next}, in the pharmacist's language."""
    return {
        "INVALID_CODE": _("That is not a prescription (RX-…) or authorization (AUT-…) code. Check it and type it "
                          "again, or scan it."),
        "CODE_UNKNOWN": _("No prescription or authorization has this code. Check it with the patient."),
        "DISPENSATION_NOT_FOUND": _("This dispensation belongs to another provider, or no longer exists."),
        "CODE_ALREADY_REDEEMED": _("This code has already been dispensed. Nothing more can be handed over with it."),
        "CODE_BEING_DISPENSED": _("This code is open in another dispensation of yours. Finish or void it there "
                                  "first."),
        "CODE_BEING_DISPENSED_ELSEWHERE": _("Another pharmacy is dispensing this code right now. Ask the patient."),
        "CODE_NOT_APPROVED": _("This authorization was not approved: it cannot be dispensed."),
        "CODE_VOIDED": _("This authorization was voided: it cannot be dispensed."),
        "CODE_EXPIRED": _("This authorization has expired: the patient needs a new one."),
        "DISPENSATION_VOIDED": _("This dispensation was voided. Open the code again to start over."),
        "TIMEOUT_VOIDED": _("Osigu voided this dispensation because it was left idle too long. Nothing was "
                            "handed over; open the code again to start over."),
        "ALREADY_DISPENSED": _("This dispensation is complete already."),
        "QUANTITY_EXCEEDS_PRESCRIBED": _("A quantity is over what was prescribed. Lower it."),
        "SUBSTITUTION_NOT_ALLOWED": _("This substitution is not allowed for this line. Hand over the prescribed "
                                      "product or one of the equivalents offered."),
        "SUBSTITUTE_NOT_REGISTERED": _("Your provider has not registered this equivalent. Choose another one, or "
                                       "ask your administrator to register it."),
        "PRODUCTS_LOCKED": _("The products can no longer change: completion has begun."),
        "NOTHING_TO_DISPENSE": _("Every quantity is zero. Hand over at least one product, or void the "
                                 "dispensation."),
        "NOT_ON_CODE": _("That product is not on this code."),
        "INVALID_LINES": _("Check the quantities, lots and expiry dates."),
        "EXPIRED_LOT": _("A lot has expired. Do not hand it over: take a pack from another lot."),
        "UPSTREAM_UNAVAILABLE": _("Osigu is not answering right now. Nothing was lost: try again in a moment."),
        "HOST_APP_GONE": _("This pharmacy system is no longer registered. Ask your administrator."),
    }


def refusal_alert(error):
    """The alert for a RedemptionError: the kind worded for the pharmacist, Osigu's code when there is one."""
    if error.upstream_code in known_errors():
        message = known_errors()[error.upstream_code]
    else:
        message = refusal_messages().get(error.kind) or _("Osigu could not do this. Try again, or void the "
                                                          "dispensation.")
    return {"message": message, "code": error.upstream_code or error.kind, "retryable": error.retryable}
