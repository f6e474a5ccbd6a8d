"""Every problem of a spec is reported at once, an unknown field lists the valid ones and the near miss,
and every pattern a spec or the API checks is said in words."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

import batchpoint.specs
from batchpoint.api.error_responses import install_error_handlers
from batchpoint.cli.endpoint_commands import apply_sets
from batchpoint.errors import SpecError, SpecProblemsError
from batchpoint.specs.base import Spec
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.validation_messages import PATTERN_FORMS, unknown_field_form
from batchpoint.specs.yaml_loading import deployment_from_dict, endpoint_from_dict

_DEPLOYMENT = {"name": "blue", "endpoint_name": "sales", "model": "models:/m/1"}


def test_a_misspelled_deployment_key_lists_the_fields_and_the_near_miss() -> None:
    with pytest.raises(SpecError) as caught:
        deployment_from_dict({**_DEPLOYMENT, "max_concurency_per_instance": 2})
    error = caught.value
    assert not isinstance(error, SpecProblemsError)
    assert error.field == "BatchDeployment.max_concurency_per_instance"
    assert error.problem == "unknown field"
    assert error.valid_form is not None
    # The flat settings the loader folds into `settings` are offered too (Azure's samples write them flat).
    assert ", max_concurrency_per_instance, " in error.valid_form
    assert ", endpoint_name, " in error.valid_form
    assert error.valid_form.endswith("; did you mean max_concurrency_per_instance?")
    assert str(error).count("max_concurency_per_instance") == 1


def test_a_misspelled_set_lists_the_fields_of_that_object() -> None:
    data = apply_sets({"name": "sales"}, ("defaults.deploymentname=x",))
    with pytest.raises(SpecError) as caught:
        endpoint_from_dict(data)
    assert str(caught.value) == (
        "BatchEndpoint.defaults.deploymentname: unknown field "
        "(expected one of: deployment_name; did you mean deployment_name?)"
    )


def test_a_key_like_no_field_gets_the_list_without_a_guess() -> None:
    assert unknown_field_form("zzz", ["name", "tags"]) == "one of: name, tags"
    with pytest.raises(SpecError) as caught:
        BatchEndpoint.parse({"name": "sales", "outputs": {"qqqq": 1}})
    assert caught.value.valid_form == "one of: incremental, keep_versions"


def test_every_problem_of_a_spec_is_reported_at_once() -> None:
    spec = {
        **_DEPLOYMENT,
        "name": "x",
        "max_concurency_per_instance": 2,
        "settings": {"mini_batch_size": 0, "logging_level": "loud"},
    }
    with pytest.raises(SpecProblemsError) as caught:
        deployment_from_dict(spec)
    error = caught.value
    fields = [p.field for p in error.problems]
    assert sorted(fields) == [
        "BatchDeployment.max_concurency_per_instance",
        "BatchDeployment.name",
        "BatchDeployment.settings.logging_level",
        "BatchDeployment.settings.mini_batch_size",
    ]
    lines = str(error).splitlines()
    assert lines[0] == "4 problems:"
    assert lines[1:] == [str(p) for p in error.problems]
    assert "BatchDeployment.settings.mini_batch_size: got 0 (expected a number >= 1)" in lines
    # The single-error view is the first problem's, so callers reading .field keep working.
    assert (error.field, error.problem, error.valid_form) == (
        error.problems[0].field,
        error.problems[0].problem,
        error.problems[0].valid_form,
    )
    assert len(set(lines)) == len(lines)


def test_one_problem_keeps_the_single_error_form() -> None:
    with pytest.raises(SpecError) as caught:
        BatchEndpoint.parse({"name": "x"})
    assert type(caught.value) is SpecError
    assert "\n" not in str(caught.value)


def test_an_aggregate_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SpecProblemsError([])


def _post(path: str, body: dict[str, Any]) -> httpx.Response:
    """One request to a bare app with the API's error handlers, in process (no stack)."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/endpoints")
    def create(endpoint: BatchEndpoint) -> dict[str, str]:
        return {"name": endpoint.name}

    @app.post("/specs")
    def parse(body: dict[str, Any]) -> dict[str, str]:
        return {"name": BatchEndpoint.parse(body).name}

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            return await client.post(path, json=body)

    return asyncio.run(send())


def test_the_api_answers_every_problem_of_a_body() -> None:
    answer = _post("/endpoints", {"name": "x", "descripton": "y", "defaults": {"deploymentname": "z"}})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "InvalidSpec"
    assert error["field"] == "name"
    assert [p["field"] for p in error["problems"]] == ["name", "defaults.deploymentname", "descripton"]
    assert error["problems"][2]["expected"].endswith("; did you mean description?")
    assert error["message"].splitlines() == [
        "3 problems:",
        "name: got 'x' (expected 3 to 32 letters, digits or '-', starting with a letter and not ending with '-')",
        "defaults.deploymentname: unknown field (expected one of: deployment_name; did you mean deployment_name?)",
        "descripton: unknown field (expected one of: checks, data_arrival, defaults, description, name, outputs, tags;"
        " did you mean description?)",
    ]


def test_the_api_answers_a_spec_error_with_every_problem_and_one_as_before() -> None:
    several = _post("/specs", {"name": "x", "colour": 1}).json()["error"]
    one = _post("/specs", {"name": "x"}).json()["error"]
    assert [p["field"] for p in several["problems"]] == ["BatchEndpoint.name", "BatchEndpoint.colour"]
    assert several["message"].startswith("2 problems:\nBatchEndpoint.name: got 'x'")
    assert "problems" not in one
    assert one["field"] == "BatchEndpoint.name"
    assert one["message"].startswith("BatchEndpoint.name: got 'x' (expected 3 to 32 letters")


def _specs() -> list[type[BaseModel]]:
    for module in pkgutil.iter_modules(batchpoint.specs.__path__):
        importlib.import_module(f"batchpoint.specs.{module.name}")
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [Spec]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _patterns(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        return own.union(*(_patterns(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_patterns(v) for v in schema))
    return set()


def test_every_spec_pattern_is_said_in_words() -> None:
    checked: set[str] = set()
    for cls in _specs():
        for info in cls.model_fields.values():
            checked |= {str(m.pattern) for m in info.metadata if isinstance(getattr(m, "pattern", None), str)}
    assert r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$" in checked  # an endpoint's name
    assert checked - PATTERN_FORMS.keys() == set()


def test_every_api_pattern_is_said_in_words() -> None:
    from batchpoint.api.app import create_app

    schema = create_app(lambda: None).openapi()  # type: ignore[arg-type,return-value]
    # The landing prefix's schema pattern is documentation only: its validator says the form itself.
    from batchpoint.specs.landing_prefix import PATTERN as LANDING_PREFIX

    assert _patterns(schema) - PATTERN_FORMS.keys() - {LANDING_PREFIX} == set()


def test_the_loaders_own_checks_are_reported_with_the_schemas() -> None:
    spec = {
        **_DEPLOYMENT,
        "name": "x",
        "model": {"path": "model"},
        "mini_batch_size": 5,
        "settings": {"mini_batch_size": 5},
        "tagz": {},
    }
    with pytest.raises(SpecProblemsError) as caught:
        deployment_from_dict(spec)
    lines = str(caught.value).splitlines()
    assert lines[0] == "4 problems:"
    assert lines[1:3] == [
        "BatchDeployment.mini_batch_size: given both at the top level and under settings (expected one place)",
        "BatchDeployment.model: an inline model is not registered yet (expected a registered model: "
        "`models:/<name>/<version>` or `azureml:<name>@latest`)",
    ]
    assert [p.field for p in caught.value.problems][2:] == ["BatchDeployment.name", "BatchDeployment.tagz"]
    assert lines[-1].endswith("did you mean tags?)")


def test_the_fields_of_an_object_are_listed_once_per_message() -> None:
    with pytest.raises(SpecProblemsError) as caught:
        BatchEndpoint.parse({"name": "sales", "descripton": "", "tagz": {}})
    first, second = caught.value.problems
    assert first.valid_form == (
        "one of: checks, data_arrival, defaults, description, name, outputs, tags; did you mean description?"
    )
    assert second.valid_form == "one of the fields listed above; did you mean tags?"
    assert str(caught.value).count("data_arrival") == 1
