"""Whether a page's origin may frame the widgets: a public yes or no, so embed.js can say what to configure."""

from flask import Blueprint, request

from . import host_apps
from .security import cacheable

bp = Blueprint("origins", __name__)


@bp.get("/v1/origins/check")
@cacheable
def check_origin():
    """Answer {registered: bool} for one origin; it names no host app and lists no other origin."""
    origin = request.args.get("origin", "")
    registered = len(origin) <= 300 and origin in host_apps.registered_origins()
    # Read by embed.js from any page; holds no secret, so it may be shared and cached briefly.
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"}
    return {"registered": registered}, 200, headers
