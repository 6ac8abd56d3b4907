"""embed.js and static/, minified and compressed once per process, served under content-hashed names.

A widget page links its scripts and styles as `name.<hash>.ext` (cached for a year, immutable: a new
release has new names); embed.js keeps its stable URL, because host pages hard-code it, with a short
cache revalidated by ETag. Each file is kept as brotli, gzip and plain bytes; a request gets the
smallest its Accept-Encoding allows, and no request compresses anything.
"""

import functools
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from flask import Response, abort, request

IMMUTABLE_SECONDS = 365 * 24 * 3600
REVALIDATE_SECONDS = 300
ENCODINGS = ("br", "gzip")  # best first
TEXT_TYPES = ("text/javascript", "text/css", "text/markdown", "text/plain")


@dataclass(frozen=True)
class Asset:
    """One served file: its bytes (minified where that is safe) and their compressed forms."""

    body: bytes
    mimetype: str
    digest: str
    encoded: dict  # encoding → bytes, only where smaller than body


def source_root():
    """Where embed.js and static/ are: the package's copy (setup.py puts it in widgets/public/), else the checkout."""
    packaged = resources.files("widgets") / "public"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1]


def minify(name, text):
    """rjsmin/rcssmin keep licence comments (/*! */); htmx arrives minified from upstream."""
    if name.endswith(".css"):
        return rcssmin.cssmin(text)
    if name.endswith(".js") and not name.endswith(".min.js"):
        return rjsmin.jsmin(text, keep_bang_comments=True)
    return text


def build_asset(name, raw):
    """Minify, hash and compress one file."""
    mimetype = "text/javascript" if name.endswith(".js") else mimetypes.guess_type(name)[0] or "text/plain"
    body = minify(name, raw.decode()).encode() if mimetype in TEXT_TYPES else raw
    compressed = {}
    if mimetype in TEXT_TYPES:
        compressed = {"br": brotli.compress(body, quality=11), "gzip": gzip.compress(body, 9, mtime=0)}
    encoded = {coding: data for coding, data in compressed.items() if len(data) < len(body)}
    return Asset(body, mimetype, hashlib.sha256(body).hexdigest()[:16], encoded)


def fingerprinted(name, digest):
    """widget.js → widget.<digest>.js (the hash goes before the last extension)."""
    stem, dot, extension = name.rpartition(".")
    return f"{stem}.{digest}.{extension}" if dot else f"{name}.{digest}"


def walk(folder, prefix=""):
    """Yield (relative name, bytes) for every file under a resources folder."""
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from walk(entry, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry.read_bytes()


class Assets:
    """Every servable file, by its plain and its fingerprinted name."""

    def __init__(self, root):
        self.embed_js = build_asset("embed.js", (root / "embed.js").read_bytes())
        self.static = {}  # URL name → (asset, immutable?)
        self.urls = {}  # plain name → fingerprinted name
        for name, raw in walk(root / "static"):
            asset = build_asset(name, raw)
            self.urls[name] = fingerprinted(name, asset.digest)
            self.static[name] = (asset, False)
            self.static[self.urls[name]] = (asset, True)

    def embed_response(self):
        """Serve embed.js: its URL never changes, so a short cache and revalidation."""
        return respond(self.embed_js, immutable=False)

    def static_response(self, name):
        """Serve a static file; 404 for anything that is not one."""
        if name not in self.static:
            abort(404)
        asset, immutable = self.static[name]
        return respond(asset, immutable)


def respond(asset, immutable):
    """The smallest encoding the client accepts, with its ETag; 304 when the client has it already."""
    coding = next((c for c in ENCODINGS if c in asset.encoded and request.accept_encodings[c]), None)
    response = Response(asset.encoded[coding] if coding else asset.body, mimetype=asset.mimetype)
    if coding:
        response.content_encoding = coding
    response.vary.add("Accept-Encoding")
    response.set_etag(f"{asset.digest}-{coding}" if coding else asset.digest)
    response.cache_control.public = True
    response.cache_control.max_age = IMMUTABLE_SECONDS if immutable else REVALIDATE_SECONDS
    if immutable:
        response.cache_control.immutable = True
    return response.make_conditional(request)


@functools.cache
def load_assets(root):
    """Build the assets once per process (about 70 ms, mostly brotli), however many apps are made."""
    return Assets(root)
