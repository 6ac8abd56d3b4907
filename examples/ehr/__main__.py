"""Run the example EHR: python -m examples.ehr --port 8091 (EHR_BFF_URL names the BFF)."""

import argparse

import waitress

from . import create_app

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=8091)
parser.add_argument("--host", default="127.0.0.1")
arguments = parser.parse_args()
app = create_app()
print(f"Example EHR listening on http://{arguments.host}:{arguments.port}", flush=True)
waitress.serve(app, host=arguments.host, port=arguments.port, threads=4, ident="example-ehr")
