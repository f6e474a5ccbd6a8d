"""Completeness: every scored input file appears once, with its rows less the failed items listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from batchpoint.checks.results import CheckResult, CheckStatus

NAME = "completeness"
_SHOWN = 5  # files named in the summary; the figures count them all


def completeness(
    input_rows: Mapping[str, int],
    predicted_rows: Mapping[str, int],
    failed_items: Mapping[str, int],
    *,
    times_seen: Mapping[str, int] | None = None,
    blocking: bool = True,
) -> CheckResult:
    """Whether the predictions hold each input file's rows, once.

    ``input_rows``: rows each scored input file holds; ``predicted_rows``: rows of each file in the
    predictions; ``failed_items``: rows (items) of each file the manifest lists as failed;
    ``times_seen``: how many times each file's rows appear as a block in the output (more than once
    is a file scored twice). A file whose rows are all failed may be absent.
    """
    missing: list[str] = []
    short: list[str] = []
    extra: list[str] = []
    for uri, rows in sorted(input_rows.items()):
        expected = rows - failed_items.get(uri, 0)
        got = predicted_rows.get(uri, 0)
        if got == 0 and expected > 0:
            missing.append(uri)
        elif got < expected:
            short.append(uri)
        elif got > expected:
            extra.append(uri)
    twice = sorted(uri for uri, seen in (times_seen or {}).items() if seen > 1)
    unknown = sorted(set(predicted_rows) - set(input_rows))
    expected_total = sum(rows - failed_items.get(uri, 0) for uri, rows in input_rows.items())
    figures = {
        "files": len(input_rows),
        "rows_expected": expected_total,
        "rows_predicted": sum(predicted_rows.values()),
        "files_missing": len(missing),
        "files_short": len(short),
        "files_with_extra_rows": len(extra),
        "files_scored_twice": len(twice),
        "files_not_among_inputs": len(unknown),
    }
    problems = [
        (what, files)
        for what, files in (
            ("missing", missing),
            ("short of rows", short),
            ("with extra rows", extra),
            ("scored twice", twice),
            ("not among the inputs", unknown),
        )
        if files
    ]
    if not problems:
        summary = f"all {len(input_rows)} files once, {expected_total} rows as expected"
        return CheckResult(NAME, CheckStatus.PASSED, blocking, summary, figures)
    parts = [
        f"{len(files)} {what} ({', '.join(files[:_SHOWN])}{', ...' if len(files) > _SHOWN else ''})"
        for what, files in problems
    ]
    return CheckResult(NAME, CheckStatus.FAILED, blocking, "files " + "; ".join(parts), figures)


def files_accounted(
    scored_files: Sequence[str],
    appearances: Mapping[str, int],
    *,
    inputs: Sequence[str] | None = None,
    blocking: bool = True,
) -> CheckResult:
    """Whether each input file that did not fail appears exactly once among the version's rows' sources.

    For a scoring script, whose ``run()`` returns rows per mini-batch: ``scored_files`` are the
    inputs that did not fail, ``appearances`` how many mini-batches (or reused segments) each file
    is in, ``inputs`` every input (default: ``scored_files``). Rows are not compared per file: a
    script's rows are its own to shape, and a short return is already counted as failed items.
    """
    missing = sorted(uri for uri in scored_files if appearances.get(uri, 0) == 0)
    twice = sorted(uri for uri, seen in appearances.items() if seen > 1)
    unknown = sorted(set(appearances) - set(inputs if inputs is not None else scored_files))
    figures: dict[str, int | float | str] = {
        "files": len(scored_files),
        "files_missing": len(missing),
        "files_scored_twice": len(twice),
        "files_not_among_inputs": len(unknown),
        "rows_compared": "per mini-batch (a scoring script)",
    }
    problems = [
        f"{len(files)} {what} ({', '.join(files[:_SHOWN])}{', ...' if len(files) > _SHOWN else ''})"
        for what, files in (("missing", missing), ("scored twice", twice), ("not among the inputs", unknown))
        if files
    ]
    if problems:
        return CheckResult(NAME, CheckStatus.FAILED, blocking, "files " + "; ".join(problems), figures)
    summary = f"all {len(scored_files)} files once (a scoring script's rows are counted per mini-batch)"
    return CheckResult(NAME, CheckStatus.PASSED, blocking, summary, figures)
