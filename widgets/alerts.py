"""What went wrong upstream, said in the user's language with what to do next (shown in place, with a 422)."""

from flask_babel import gettext as _


def upstream_alert(error, known):
    """The alert for an UpstreamError; known maps the widget's own Osigu error codes to their messages."""
    if error.retryable and str(error.retry_after).isdigit():  # rate limited, or our own bulkhead full
        message = _("Osigu is busy, try again in %(seconds)s s. Nothing you entered is lost.",
                    seconds=error.retry_after)
        return {"message": message, "code": error.error_code, "retryable": True}
    if error.status >= 500 or error.status == 429:
        message = _("Osigu is not answering right now. Nothing you entered is lost: try again in a moment.")
        return {"message": message, "code": error.error_code, "retryable": True}
    message = known.get(error.error_code) or _("Osigu could not do this: %(reason)s", reason=error.message)
    return {"message": message, "code": error.error_code, "retryable": False}


def error_event(alert):
    """What the host app hears of an error shown in the widget: its code, message and whether to retry."""
    return {"code": alert["code"], "message": str(alert["message"]), "retryable": alert["retryable"]}
