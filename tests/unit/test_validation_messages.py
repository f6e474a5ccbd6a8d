"""A refused value is described once: what was given, then the valid form in words (not pydantic's rule twice)."""

from __future__ import annotations

import pytest

from batchpoint.errors import SpecError
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvokeRequest


@pytest.mark.parametrize(
    ("cls", "spec", "message"),
    [
        (
            BatchEndpoint,
            {"name": "x"},
            "BatchEndpoint.name: got 'x' (expected 3 to 32 letters, digits or '-', starting with a letter and"
            " not ending with '-')",
        ),
        (
            BatchDeployment,
            {"name": "blue", "endpoint_name": "sales", "model": "models:/m/1", "settings": {"mini_batch_size": 0}},
            "BatchDeployment.settings.mini_batch_size: got 0 (expected a number >= 1)",
        ),
        (
            BatchDeployment,
            {"name": "blue", "endpoint_name": "sales", "model": "models:/m/1", "settings": {"logging_level": "loud"}},
            "BatchDeployment.settings.logging_level: got 'loud' (expected one of debug, info, warning, error,",
        ),
        (
            BatchDeployment,
            {"name": "blue", "endpoint_name": "sales", "model": "models:/m/1", "settings": {"mini_batch_size": "a"}},
            "BatchDeployment.settings.mini_batch_size: got 'a' (expected a whole number)",
        ),
        (BatchDeployment, {"endpoint_name": "sales", "model": "models:/m/1"}, "BatchDeployment.name: is required"),
        (BatchEndpoint, {"name": "sales", "colour": 1}, "BatchEndpoint.colour: unknown field"),
    ],
)
def test_the_problem_and_the_valid_form_are_each_said_once(cls: type, spec: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        cls.parse(spec)  # type: ignore[attr-defined]
    text = str(caught.value)
    assert text.startswith(message)
    assert "should" not in text, "pydantic's rule is replaced by the valid form"
    assert text.count("expected") <= 1


def test_an_unknown_pattern_is_quoted_once() -> None:
    from pydantic import BaseModel, Field, ValidationError

    from batchpoint.specs.base import spec_error_from

    class Odd(BaseModel):
        code: str = Field(pattern=r"^[XYZ]{3}$")

    with pytest.raises(ValidationError) as caught:
        Odd(code="ab")
    error = spec_error_from(caught.value, "Odd")
    assert str(error) == "Odd.code: got 'ab' (expected text matching the regular expression ^[XYZ]{3}$)"


def test_a_problem_without_a_known_form_keeps_pydantics_message() -> None:
    with pytest.raises(SpecError) as caught:
        InvokeRequest.parse({"inputs": {}})
    assert "at least 1" in str(caught.value)
    assert caught.value.valid_form is None
