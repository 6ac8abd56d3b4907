"""The API proxy for integrators without widgets: their API key in, the tenant's Osigu token out."""

from flask import Blueprint, Response, current_app, request

from . import host_apps, provider_products
from .errors import ApiError
from .upstream import passthrough

bp = Blueprint("proxy", __name__, url_prefix="/v1/osigu")

# What a host app may reach; OAuth, the sandbox tools and anything new stay closed until listed.
ALLOWED_PREFIXES = ("medical-catalogs/", "arc/", "ehr/", "dispensing/", "v3/settlements/")
REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language", "Idempotency-Key")
RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Retry-After", "Idempotent-Replayed")
STREAM_CHUNK = 64 * 1024


def _allowed(path):
    """Match whole path segments (so v3/settlements-admin is not v3/settlements), with no .. or //."""
    segments = path.split("/")
    return (path + "/").startswith(ALLOWED_PREFIXES) and ".." not in segments and "" not in segments[:-1]


@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def forward(path):
    """Forward an allow-listed Osigu call with the host app's tenant token, streaming the answer back."""
    host_app = host_apps.authenticate()
    if not _allowed(path):
        raise ApiError(403, "BFF-PROXY-PATH", f"/{path} is not an Osigu API the proxy forwards.",
                       {"allowed_prefixes": [f"/{prefix.rstrip('/')}" for prefix in ALLOWED_PREFIXES]})
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    upstream = host_apps.upstream_for(host_app).request(
        request.method, "/" + path, params=list(request.args.items(multi=True)),
        data=request.get_data() or None, headers=headers, stream=True,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    provider_products.forget_after(host_app, request.method, path)
    kept = {name: upstream.headers[name] for name in RESPONSE_HEADERS if name in upstream.headers}
    current_app.logger.debug("proxied %s /%s -> %s", request.method, path, upstream.status_code)
    chunks = passthrough(upstream, STREAM_CHUNK)

    def body():
        try:
            yield from chunks
        finally:
            upstream.close()

    return Response(body(), status=upstream.status_code, headers=kept, direct_passthrough=True)
