"""A hospital pharmacy against the BFF: pharmacists' sessions, stock on the shelves, codes in the queue.

Every response of /api is checked against the API's own OpenAPI document (bff/pharmacy/openapi.yaml),
as the simulator's are against its own.
"""

from pathlib import Path

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from bff.db import db
from bff.pharmacy import inventory

TENANT = "demo-hospital"  # his-a acts with the BFF's own credentials: the demo hospital's
DOCUMENT = Path(__file__).resolve().parents[3] / "bff" / "pharmacy" / "openapi.yaml"


@pytest.fixture
def database_url(request, tmp_path):
    """The BFF's database: SQLite, unless a test parametrizes it (indirectly) with "postgres"."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'bff.sqlite3'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def bff_app(make_bff, database_url):
    app = make_bff(SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        assert db.engine.dialect.name == database_url.split(":")[0].split("+")[0]
    return app


@pytest.fixture(scope="session")
def pharmacy_openapi():
    return OpenAPI.from_dict(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")))


class PharmacyApi(requests.Session):
    """A caller of /api with one dispensing session; every answer is validated against the document."""

    def __init__(self, bff_url, token, openapi):
        super().__init__()
        self.base_url, self.openapi = bff_url, openapi
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.hooks["response"].append(self._check)

    def _check(self, response, *args, **kwargs):
        self.openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.base_url + url, *args, **kwargs)


@pytest.fixture
def session_for(bff_url, host, pharmacy_openapi):
    """Open a dispensing session for a user of a host app and return a PharmacyApi speaking with it."""

    def open_session(user_id="ph-1", role="PHARMACIST", permissions=None, api_key="his-a-api-key-0123456789",
                     origin="http://127.0.0.1:9001", widget="dispensing"):
        user = {"id": user_id, "name": f"Pharmacist {user_id}", "role": role}
        if permissions is not None:
            user["permissions"] = permissions
        response = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10,
                                 headers={"Authorization": f"Bearer {api_key}"},
                                 json={"widget": widget, "origin": origin, "user": user, "context": {}})
        assert response.status_code == 201, response.text
        return PharmacyApi(bff_url, response.json()["token"], pharmacy_openapi)

    return open_session


@pytest.fixture
def anonymous(bff_url, pharmacy_openapi):
    return PharmacyApi(bff_url, None, pharmacy_openapi)


@pytest.fixture
def bearing(bff_url, pharmacy_openapi):
    """A client that presents whatever token it is given."""
    return lambda token: PharmacyApi(bff_url, token, pharmacy_openapi)


@pytest.fixture
def pharmacist(session_for):
    return session_for("ph-1")


@pytest.fixture
def other_pharmacist(session_for):
    return session_for("ph-2")


@pytest.fixture
def stock(bff_app):
    """Put lots on the demo hospital's shelves: stock(("MED-042", "L1", "2030-01-31", 10), ...)."""

    def load(*lots, tenant=TENANT):
        rows = ["productCode,batchNumber,expiryDate,quantity", *(",".join(map(str, lot)) for lot in lots)]
        with bff_app.app_context():
            written, refused = inventory.import_csv(tenant, rows)
            db.session.remove()
        assert refused == [] and written == len(lots)

    return load


@pytest.fixture
def queued(pharmacist, prescribe):
    """Issue a prescription at Osigu (the simulator) and queue its code through the API; return the record."""

    def queue(*medications, priority=None, department_id=None, api=None):
        body = {"code": prescribe(*medications)}
        if priority:
            body["priority"] = priority
        if department_id:
            body["departmentId"] = department_id
        response = (api or pharmacist).post("/api/dispensing/pending", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return queue


@pytest.fixture
def upstream_dispensations(simulator_app):
    """The statuses of Osigu's (the simulator's) dispensations of a code, oldest first."""
    from simulator.db import db as sim_db
    from simulator.models import Dispensation

    def statuses(code):
        with simulator_app.app_context():
            return [row.status for row in sim_db.session.scalars(
                sim_db.select(Dispensation).filter_by(code=code).order_by(Dispensation.created_at)).all()]

    return statuses


@pytest.fixture
def upstream_products(simulator_app):
    """What Osigu recorded as handed over on the code's completed dispensation: (prescribed, product, quantity)."""
    from simulator.db import db as sim_db
    from simulator.models import Dispensation

    def products(code):
        with simulator_app.app_context():
            done = sim_db.session.scalars(sim_db.select(Dispensation).filter_by(code=code, status="DISPENSED")).one()
            return [(line.prescribed_product_code, line.product_code, line.quantity) for line in done.lines]

    return products
