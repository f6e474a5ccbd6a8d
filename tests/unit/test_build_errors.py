"""Reading uv's failures: the requirement it blamed, however uv wrapped its explanation."""

from __future__ import annotations

import pytest

from batchpoint.environments.build_errors import build_error_from_uv

# What `uv pip install six batchpoint-no-such-package-zq` prints, at two terminal widths.
UNWRAPPED = (
    "error: No solution found when resolving dependencies\n"
    "  cause: Because batchpoint-no-such-package-zq was not found in the package registry and you require "
    "batchpoint-no-such-package-zq, we can conclude that your requirements are unsatisfiable.\n"
)
AT_80_COLUMNS = (
    "error: No solution found when resolving dependencies\n"
    "  cause: Because batchpoint-no-such-package-zq was not found in the package\n"
    "         registry and you require batchpoint-no-such-package-zq, we can conclude\n"
    "         that your requirements are unsatisfiable.\n"
)
NO_VERSION_AT_80 = (
    "error: No solution found when resolving dependencies\n"
    "  cause: Because there is no version of scikit-learn==99.0 and you require\n"
    "         scikit-learn==99.0, we can conclude that your requirements are unsatisfiable.\n"
)


@pytest.mark.parametrize(
    ("output", "requirement", "problem"),
    [
        (UNWRAPPED, "batchpoint-no-such-package-zq", "not found in the package index"),
        (AT_80_COLUMNS, "batchpoint-no-such-package-zq", "not found in the package index"),
        (NO_VERSION_AT_80, "scikit-learn==99.0", "no version found"),
    ],
)
def test_the_blamed_requirement_is_named_at_any_width(output: str, requirement: str, problem: str) -> None:
    error = build_error_from_uv(output, "pip install")
    assert error.requirement == requirement
    assert f"{requirement}: {problem}\nuv output (last lines):\n" in str(error)
    assert error.output_tail == output.rstrip("\n")  # uv's own text, as it printed it


def test_an_unrecognised_failure_names_the_step_and_keeps_the_tail() -> None:
    error = build_error_from_uv("error: something else entirely\n", "venv")
    assert error.requirement is None
    assert "`uv venv` failed" in str(error)
    assert error.output_tail == "error: something else entirely"
