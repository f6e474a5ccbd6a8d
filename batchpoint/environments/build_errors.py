"""Why ``uv pip install`` failed, read from its output: the requirement to blame and the tail."""

from __future__ import annotations

import re

from batchpoint.errors import EnvironmentBuildError

__all__ = ["EnvironmentBuildError", "build_error_from_uv", "output_tail"]

TAIL_LINES = 20

# uv's resolver explanations (plain and fancy output); the first capture names the requirement.
_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"there is no version of (?P<req>[^\s,]+)"), "no version found"),
    (re.compile(r"(?P<req>[^\s,]+) was not found in the package registry"), "not found in the package index"),
    (re.compile(r"(?P<req>[^\s,]+) was not found in the provided package locations"), "not found in the package index"),
    (re.compile(r"[Ff]ailed to (?:download and )?build `(?P<req>[^`]+)`"), "failed to build"),
    (re.compile(r"[Ff]ailed to download `(?P<req>[^`]+)`"), "failed to download"),
    (re.compile(r"[Ff]ailed to (?:fetch|resolve|parse)[^`]*`(?P<req>[^`]+)`"), "failed to fetch"),
)


def output_tail(output: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-blank lines of a command's output."""
    kept = [line for line in output.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def build_error_from_uv(output: str, step: str) -> EnvironmentBuildError:
    """The typed error for a failed ``uv`` step, naming the requirement uv blamed if it did."""
    # uv wraps its explanations at the terminal's width ($COLUMNS, e.g. 80 under a test runner):
    # "was not found in the package\n         registry". Matched on the text with its runs of
    # whitespace made single spaces.
    flat = " ".join(output.split())
    for pattern, problem in _CAUSES:
        match = pattern.search(flat)
        if match:
            return EnvironmentBuildError(match["req"], problem, output_tail(output))
    return EnvironmentBuildError(None, f"`uv {step}` failed", output_tail(output))
