"""Property-based contract test: generated requests never give a 500, and every answer matches the schema.

One pytest test per operation of the service's own OpenAPI document, each with a node id of its own
(schemathesis' ``schema.parametrize`` gives all of them one node id, and pytest-xdist then runs only one).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from triage_service_support.predictors import FixedPredictor

from medskills.triage.api import ServiceSettings, create_app


def _app():  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    app = create_app(ServiceSettings(max_upload_bytes=5_000_000), predictor=FixedPredictor())
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()  # run the lifespan once: the runtime (queue, predictor) is set up
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def test_the_schema_lists_every_route_of_the_service() -> None:
    assert {operation.label for operation in OPERATIONS} == {
        "GET /", "GET /health", "GET /ready", "POST /predict", "POST /predict_nifti"}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_no_generated_request_gives_a_server_error(operation) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def every_case_conforms(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call()
        case.validate_response(response, checks=(not_a_server_error, status_code_conformance,
                                                 response_schema_conformance))

    every_case_conforms()
