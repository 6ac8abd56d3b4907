"""Security headers on every response: a deny-by-default CSP, and nonces for widget pages."""

import secrets

from flask import g

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


def init_security(app):
    """Add the headers every response carries; a view may set its own stricter or page CSP."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", API_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "application/json":
            headers.setdefault("Cache-Control", "no-store")
        return response
