"""What a host page and a widget page download: each asset raw, minified and gzipped, side by side.

Run: python benchmarks/widget_weight.py
"""

import gzip
from pathlib import Path

import rcssmin
import rjsmin

ROOT = Path(__file__).resolve().parents[1]
# (who downloads it, file); the vendored htmx is already minified upstream.
ASSETS = [
    ("host page", "embed.js"),
    ("widget page", "static/widget.js"),
    ("widget page", "static/widget.css"),
    ("widget page", "static/vendor/htmx-2.0.11.min.js"),
]


def weigh(path):
    """Return (raw, minified, minified and gzipped) sizes in bytes."""
    raw = path.read_bytes()
    text = raw.decode()
    minified = (rcssmin.cssmin(text) if path.suffix == ".css" else rjsmin.jsmin(text, keep_bang_comments=True))
    minified = minified.encode()
    return len(raw), len(minified), len(gzip.compress(minified, compresslevel=9))


def main():
    print("| downloaded by | asset | raw bytes | minified | min + gzip |")
    print("|---|---|---|---|---|")
    totals = {}
    for who, name in ASSETS:
        raw, minified, zipped = weigh(ROOT / name)
        totals[who] = totals.get(who, 0) + zipped
        print(f"| {who} | `{name}` | {raw} | {minified} | {zipped} |")
    for who, total in totals.items():
        print(f"| {who} | **total** | | | **{total}** |")


if __name__ == "__main__":
    main()
