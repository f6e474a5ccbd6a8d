"""A predictions asset's checks in Dagster: the specs per endpoint, and each run's results as ``AssetCheckResult``.

The checks are evaluated in the scoring step before ``latest`` moves (``batchpoint/outputs/
version_checks.py``) and written in the version's manifest; here they are only reported, so the
asset's checks tab shows them per partition. A failed blocking check is an ``ERROR``: Dagster then
fails the run after recording the materialisation (the version is written, ``latest`` stayed). A
check that could not be evaluated (drift in a first month) passes, saying why in its description
and its ``status`` metadata.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import dagster as dg

from batchpoint.checks.results import CheckReport, CheckResult, CheckStatus
from batchpoint.specs.endpoint import BatchEndpoint

CHECKS = ("completeness", "validity", "drift")

_DESCRIPTIONS = {
    "completeness": "Every scored input file once in the predictions, with its rows less its failed items.",
    "validity": "No null or NaN predictions, the signature's prediction columns and types, known classes.",
    "drift": "This month's predictions against the previous month's latest: PSI per column, class shares.",
}


def check_specs(
    endpoint: BatchEndpoint, asset: dg.AssetKey, partitions: dg.PartitionsDefinition
) -> list[dg.AssetCheckSpec]:
    """The three checks of ``endpoint``'s predictions asset, per month, blocking as its ``checks:`` section says."""
    blocking = {
        "completeness": endpoint.checks.completeness.blocking,
        "validity": endpoint.checks.validity.blocking,
        "drift": endpoint.checks.drift.blocking,
    }
    with warnings.catch_warnings():
        # Partitioned asset checks are a Dagster preview; they are what shows each month's checks.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                name,
                asset=asset,
                blocking=blocking[name],
                description=_DESCRIPTIONS[name],
                partitions_def=partitions,
            )
            for name in CHECKS
        ]


def check_results(report: CheckReport | None, asset: dg.AssetKey) -> list[dg.AssetCheckResult]:
    """Each evaluated check as Dagster's result, with its figures as metadata."""
    if report is None:
        return []
    return [_result(r, asset) for r in report.results if r.name in CHECKS]


def _result(result: CheckResult, asset: dg.AssetKey) -> dg.AssetCheckResult:
    metadata: dict[str, dg.MetadataValue] = {
        "status": dg.MetadataValue.text(str(result.status)),
        "summary": dg.MetadataValue.text(result.summary),
    }
    metadata.update({k: _figure(v) for k, v in result.figures.items()})
    if result.per_column:
        metadata["per_column"] = dg.MetadataValue.md(per_column_table(result.per_column))
    severity = dg.AssetCheckSeverity.ERROR if result.blocking else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=result.name,
        asset_key=asset,
        passed=result.status is not CheckStatus.FAILED,
        severity=severity,
        description=result.summary,
        metadata=metadata,
    )


def _figure(value: int | float | str) -> dg.MetadataValue:
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    return dg.MetadataValue.text(str(value))


def per_column_table(per_column: Mapping[str, Mapping[str, int | float | str]]) -> str:
    """A Markdown table: a row per prediction column, a column per figure."""
    figures = sorted({k for v in per_column.values() for k in v})
    lines = ["| column | " + " | ".join(figures) + " |", "|---|" + "---|" * len(figures)]
    for name, values in per_column.items():
        lines.append(f"| {name} | " + " | ".join(str(values.get(k, "")) for k in figures) + " |")
    return "\n".join(lines)


def check_metadata(report: CheckReport | None) -> dict[str, dg.MetadataValue]:
    """The materialisation's view of the checks: a table of every check, and the drift per column."""
    if report is None:
        return {}
    lines = ["| check | status | blocking | summary |", "|---|---|---|---|"]
    lines += [f"| {r.name} | {r.status} | {'yes' if r.blocking else 'no'} | {r.summary} |" for r in report.results]
    metadata: dict[str, dg.MetadataValue] = {"checks": dg.MetadataValue.md("\n".join(lines))}
    drift = report.by_name("drift")
    if drift is not None and drift.per_column:
        metadata["drift_per_column"] = dg.MetadataValue.md(per_column_table(drift.per_column))
    for name, uri in report.pictures.items():
        # Stored beside the version (SVG): Dagster's metadata links it; the sparklines above are inline.
        metadata[f"histogram {name}"] = dg.MetadataValue.path(uri)
    if report.baseline_version:
        metadata["drift_baseline"] = dg.MetadataValue.text(f"{report.baseline_partition} {report.baseline_version}")
    return metadata
