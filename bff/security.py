"""Security headers on every response: a deny-by-default CSP, nonces for widget pages, no-store by default."""

import secrets

from flask import current_app, g, request

# JSON, embed.js and errors need nothing from a browser: deny everything, including being framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def csp_nonce():
    """Return this response's CSP nonce, for the few inline tags a widget page must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def widget_page_policy(origins):
    """A widget page's CSP: our own scripts and styles (or the nonce), framed only by the host app's origins."""
    nonce = csp_nonce()
    return "; ".join([
        "default-src 'none'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors " + " ".join(origins),
    ])


def cacheable(view):
    """Let a view's successful responses keep their own Cache-Control: only for public, patient-free bytes."""
    view.cacheable = True
    return view


def may_be_cached(response):
    """Only a cacheable view's 200 or 304 may be stored by a browser or a proxy; everything else is no-store."""
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "cacheable", False) and response.status_code in (200, 304)


def init_security(app):
    """Add the headers every response carries; a view may set its own stricter or page CSP."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", API_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if not may_be_cached(response):
            # Widget pages, fragments, JSON and proxied PDFs carry patient data: whatever was set, store nothing.
            headers["Cache-Control"] = "no-store"
        return response
