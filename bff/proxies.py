"""Behind a reverse proxy: honour X-Forwarded-* only on requests that come from a proxy the operator named."""

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


def _peer(environ):
    """The address the connection came from, IPv4-mapped IPv6 (a dual-stack socket's) read as IPv4."""
    try:
        address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


class TrustedProxyFix:
    """Werkzeug's ProxyFix for requests whose peer is a trusted proxy; anyone else's X-Forwarded-* is ignored.

    ProxyFix alone trusts whoever connects: a client that reached the BFF directly could claim any
    address or https. Checking the peer first means only the proxy can say what the client was.
    """

    def __init__(self, app, networks, hops):
        self.app = app
        self.networks = networks
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    def __call__(self, environ, start_response):
        peer = _peer(environ)
        trusted = peer is not None and any(peer in network for network in self.networks)
        return (self.fixed if trusted else self.app)(environ, start_response)


def init_proxies(app):
    """Wrap the app in TrustedProxyFix when BFF_TRUSTED_PROXIES names the reverse proxies in front of it."""
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["TRUSTED_PROXIES"], app.config["PROXY_HOPS"])
