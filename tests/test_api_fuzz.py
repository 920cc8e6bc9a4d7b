"""The API fuzzed from its own schema (schemathesis): every operation of /api/schema/, called
through the WSGI application with a signed-in curator's session (CSRF token included) and a
camera token, a bounded number of generated requests each. No 500, and every response conforms
to the schema: its status documented for the operation (bankwatch/api.py::document_errors adds
the error answers every operation can give), its content type and its body."""

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

EXAMPLES_PER_OPERATION = 5
# Every status an answer has must be documented for its operation (status_code_conformance), its
# content type and body must match the schema. Left out: a body valid by the schema may still be
# refused for its content (an "image" that is not one: 415; a watchlist threshold outside what the
# product accepts: 400), which the schema cannot say. And every call carries the curator's session
# cookie, so an Authorization header that schemathesis garbles (no scheme of ours) is served as that
# session: ignored_auth cannot tell. Bad API keys answer 401 in
# tests/test_api_keys.py::test_a_revoked_expired_or_unknown_key_gets_401.
EXCLUDED = [schemathesis.checks.positive_data_acceptance, schemathesis.checks.ignored_auth]


@pytest.mark.django_db(transaction=True)
def test_every_api_operation_survives_generated_requests_within_its_schema(cast, camera_with_token, capsys):
    _, token = camera_with_token
    client = Client()
    client.force_login(cast["carol"])
    client.get("/admin/")  # its sign-out form sets the CSRF cookie
    document = client.get("/api/schema/?format=json")
    assert document.status_code == 200
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        "csrftoken": client.cookies["csrftoken"].value,
    }
    headers = {"X-CSRFToken": cookies["csrftoken"], "Authorization": f"Camera {token}"}
    schema = schemathesis.openapi.from_dict(document.json())
    # The handler itself, not get_wsgi_application(): that runs django.setup() again, whose logging
    # set-up closes the stream of absl's handler (imported with the models), pytest's captured stderr.
    schema.app = WSGIHandler()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    examples = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal examples
            examples += 1
            response = case.call(headers=headers, cookies=cookies)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
            case.validate_response(response, excluded_checks=EXCLUDED)

        run()
    with capsys.disabled():
        print(f"\nschemathesis: {len(operations)} operations, {examples} generated requests")
    assert len(operations) >= 20


@pytest.mark.django_db
def test_the_schema_documents_the_errors_the_api_answers(cast):
    """A page past the last answers 404 "Invalid page." on every list, and the schema says so; every
    operation documents 401, 403 and 503, every operation with a body 400, 413 and 415, every one an
    API key may call 429."""
    client = Client()
    client.force_login(cast["alice"])
    schema = client.get("/api/schema/?format=json").json()
    page = client.get("/api/v1/alerts/?page=999")
    assert page.status_code == 404 and page.json() == {"error": "Invalid page."}
    anonymous = Client().get("/api/v1/alerts/")
    listing = schema["paths"]["/api/v1/alerts/"]["get"]["responses"]
    assert {"404", str(anonymous.status_code)} <= set(listing)
    assert listing["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"401", "403", "503"} <= documented, f"{method} {path}"
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= documented, f"{method} {path}"
            if "{" in path or any(p["name"] == "page" for p in operation.get("parameters", [])):
                assert "404" in documented, f"{method} {path}"
            if {"apiKey": []} in operation["security"]:
                assert "429" in documented, f"{method} {path}"  # BANKWATCH_API_KEY_RATE
    assert "429" in schema["paths"]["/api/v1/frames"]["post"]["responses"]  # the camera's frame rate
