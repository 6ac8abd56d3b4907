"""What the doctor reads for the Osigu error codes the prescription flow can meet."""

from flask_babel import gettext as _


def known_errors():
    """{Osigu error code: what it means for the doctor and what to do next}, in the doctor's language."""
    return {
        "081-101": _("This patient no longer exists in Osigu. Look the patient up again."),
        "081-102": _("A patient with this document already exists with other details. Look them up instead."),
        "081-110": _("This prescription needs the patient's consent to process their data."),
        "081-111": _("A medication is not registered by your provider. Remove it, or ask your administrator "
                     "to register it first."),
        "081-112": _("A diagnosis is not a valid ICD-10 code. Remove it and search again."),
        "081-113": _("The signature did not match the prescription. Review it and issue it again."),
        "081-114": _("Osigu did not accept your provider's signature. Ask your administrator to check the "
                     "signing key."),
        "081-115": _("Your provider is not certified with Spain's national repository. Ask your administrator."),
        "081-121": _("The patient has no e-mail address on file. Type one to send the prescription to."),
        "081-122": _("This prescription has already been dispensed, so it can no longer be cancelled."),
        "081-123": _("A pharmacy is dispensing this prescription right now, so it cannot be cancelled. Ask the "
                     "pharmacy to stop, or try again in 30 minutes."),
    }
