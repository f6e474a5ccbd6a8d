"""Property-based run of the API's own OpenAPI document (schemathesis): no 5xx, nothing without a token.

Each operation gets its own test with positive (valid by the schema) and negative (invalid) cases.
The app runs over a real Workspace on the embedded stack's S3 and MLflow with a registry of its own, so
generated endpoints never reach the stack's Dagster definitions. (schemathesis's ``from_fixture``
does not run on pytest 9.2, so the strategies are driven with hypothesis directly.)
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from batchpoint.api.app import create_app
from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from tests.integration.test_api_support import store_and_models  # noqa: F401 -- fixture

POSITIVE_EXAMPLES = 25
NEGATIVE_EXAMPLES = 10
UNAUTHENTICATED_EXAMPLES = 5
answers: Counter[str] = Counter()


def _no_workspace() -> Workspace:
    raise AssertionError("listing operations must not need a workspace")


def _operations() -> list[tuple[str, str]]:
    document = create_app(_no_workspace).openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _operations()


@pytest.fixture
def workspace(store_and_models: Settings, tmp_path: Path) -> Iterator[Workspace]:  # noqa: F811
    ws = Workspace(dataclasses.replace(store_and_models, registry_url=f"sqlite:///{tmp_path / 'registry.db'}"))
    yield ws
    ws.close()


def _operation(workspace: Workspace, method: str, path: str) -> schemathesis.schemas.APIOperation:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(lambda: workspace))
    return schema[path][method]


def _no_5xx(
    operation: schemathesis.schemas.APIOperation, mode: GenerationMode, examples: int, headers: dict[str, str]
) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        answers[f"{mode.value} {response.status_code}"] += 1
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"

    return check


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_with_a_valid_token(workspace: Workspace, method: str, path: str) -> None:
    operation = _operation(workspace, method, path)
    headers = {"Authorization": f"Bearer {workspace.tokens.create('schemathesis')[1]}"}
    for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
        try:
            _no_5xx(operation, mode, examples, headers)()
        except Unsatisfiable:
            # Nothing in the operation can be made invalid (GET /v1/health has no input).
            assert mode is GenerationMode.NEGATIVE
            answers[f"{mode.value} none possible"] += 1


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_nothing_but_health_is_answered_without_a_token(workspace: Workspace, method: str, path: str) -> None:
    operation = _operation(workspace, method, path)

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=UNAUTHENTICATED_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case: schemathesis.Case) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call()
        answers[f"no token {response.status_code}"] += 1
        if path == "/v1/health":
            assert response.status_code == 200
        else:
            assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"
            assert response.headers["www-authenticate"] == ["Bearer"]

    check()


def test_zz_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Print how many answers of each kind the runs above saw (runs last in file order)."""
    with capsys.disabled():
        print(f"\nschemathesis: {len(OPERATIONS)} operations; answers {dict(sorted(answers.items()))}")
