"""Run the example host app: python -m examples.his --port 8090."""

import argparse

import waitress

from . import create_app

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=8090)
parser.add_argument("--host", default="127.0.0.1")
arguments = parser.parse_args()
app = create_app()
print(f"Example host app listening on http://{arguments.host}:{arguments.port}", flush=True)
waitress.serve(app, host=arguments.host, port=arguments.port, threads=4, ident="example-his")
