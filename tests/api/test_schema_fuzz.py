"""Schemathesis throws generated requests at every read and write endpoint of the API's own OpenAPI schema.

No request may cause a 500, and every documented response must match the schema. (The error statuses,
400/401/403/404/409 with the one error body, are not in the schema yet: status-code conformance is off.) An
admin's write token is used, so writes go past the gate and into validation; each example runs in
the test's transaction, rolled back after it.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.models import ApiToken

pytest_plugins = ["tests.cast"]


def _schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    return schema


schema = _schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # As Django's test client does: a request must not close the connection the test's transaction is on.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, admin):
    from tests.scene import build_scene

    build_scene()
    return ApiToken.issue(user=admin, name="fuzz", scope="write", lifetime=timedelta(hours=1))[1]


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_no_generated_request_breaks_the_api(case, admin_token):
    response = case.call(base_url="https://testserver", headers={"Authorization": f"Bearer {admin_token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
