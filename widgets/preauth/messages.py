"""What the clinic reads for the Osigu error codes and decisions the pre-authorization flow can meet."""

from flask_babel import gettext as _


def known_errors():
    """{Osigu error code: what it means for the user and what to do next}, in the user's language."""
    return {
        "061-100": _("Osigu does not know this sponsor. Choose another one."),
        "061-101": _("The sponsor has no beneficiary with these details. Check them with the patient."),
        "061-102": _("The beneficiary's coverage is not active, so nothing can be requested for them."),
        "061-103": _("These details do not fit the sponsor's search form. Check each field."),
        "061-110": _("Osigu no longer has this request. Start a new one."),
        "061-111": _("This request can no longer be changed in its current state."),
        "061-112": _("Add at least one diagnosis before requesting the authorization."),
        "061-113": _("The sponsor requires more documents. Upload the ones marked as missing."),
        "061-114": _("The sponsor does not accept this kind of file. Upload a PDF, JPEG or PNG."),
        "061-115": _("The file is larger than the sponsor accepts."),
        "061-116": _("A product is not registered by your provider. Remove it, or ask your administrator to "
                     "register it first."),
        "061-118": _("Only a request whose authorizations were all rejected can be sent again."),
    }


def decision_reason(reason):
    """A sponsor's decision reason in plain words."""
    return {
        "NOT_COVERED": _("The sponsor does not cover this kind of product."),
        "NOT_COVERED_BY_PLAN": _("The beneficiary's plan excludes this kind of product."),
        "EXCLUDED_PRODUCT": _("The sponsor excludes this product."),
        "MEDICAL_REVIEW": _("The sponsor's medical team reviews it; the decision arrives here and in your system."),
    }.get(reason, _("The sponsor gave no reason."))
