"""The Dagster run tags batchpoint reads and writes, and the Dagster names the core refers to.

Tags a scoring run of a predictions partition may carry (``docs/backfills-and-versions.md``):

- ``batchpoint/deployment``: the deployment to score with instead of the endpoint's default;
- ``batchpoint/promote``: ``"true"`` | ``"false"``, whether a Completed run moves ``latest``;
- ``batchpoint/rescore``: ``"failed-files"`` to re-score only the files that failed in the
  partition's newest version, ``"all"`` to re-score every file (no reuse of ``latest``'s rows);
- ``batchpoint/compare``: ``"latest"`` to diff the new version against the month's ``latest``
  (``batch-endpoint compare``, a challenger's month);
- ``dagster/backfill``: set by Dagster on every run of a backfill.

``run_choices`` reads them back for the scoring step, which hands over ``context.run.tags``. A
data-arrival run has none of batchpoint's tags, so it scores with the default deployment and
promotes; a backfill sets them on every run; a backfill started from Dagster's UI has none either
and behaves like data arrival.

The core may not import Dagster, so the asset key and job name of an endpoint are spelt out here as
``dagster_project/naming.py`` builds them (a Dagster-layer test keeps the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from batchpoint.errors import SpecError

DEPLOYMENT_TAG = "batchpoint/deployment"
PROMOTE_TAG = "batchpoint/promote"
RESCORE_TAG = "batchpoint/rescore"
ENDPOINT_TAG = "batchpoint/endpoint"
COMPARE_TAG = "batchpoint/compare"
COMPARE_LATEST = "latest"
BACKFILL_ID_TAG = "dagster/backfill"
PARTITION_TAG = "dagster/partition"

RESCORE_FAILED_FILES = "failed-files"
RESCORE_ALL = "all"
RESCORE_FORMS = f"`{RESCORE_FAILED_FILES}` or `{RESCORE_ALL}` (or no tag)"
Rescore = Literal["failed-files", "all"]
PROMOTE_FORMS = '`"true"` or `"false"` (or no tag)'
_BOOLEANS = {"true": True, "false": False}


def dagster_name(name: str) -> str:
    """``sales-forecast`` -> ``sales_forecast`` (Dagster names allow letters, digits, underscores)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def predictions_asset_path(endpoint_name: str) -> list[str]:
    """Key path of an endpoint's predictions asset: ``[<endpoint>, "predictions"]``."""
    return [dagster_name(endpoint_name), "predictions"]


def scoring_job_name(endpoint_name: str) -> str:
    """Name of the job data-arrival runs of an endpoint belong to."""
    return f"score_{dagster_name(endpoint_name)}"


def scoring_tags(
    *, endpoint: str, deployment: str, promote: bool, failed_only: bool, compare: bool = False
) -> dict[str, str]:
    """The tags of a run (or of every run of a backfill) that scores with ``deployment``."""
    tags = {ENDPOINT_TAG: endpoint, DEPLOYMENT_TAG: deployment, PROMOTE_TAG: "true" if promote else "false"}
    if failed_only:
        tags[RESCORE_TAG] = RESCORE_FAILED_FILES
    if compare:
        tags[COMPARE_TAG] = COMPARE_LATEST
    return tags


def parse_promote(value: str | None) -> bool | None:
    """The ``batchpoint/promote`` tag as a bool; ``None`` when the run has none."""
    if value is None:
        return None
    parsed = _BOOLEANS.get(value.strip().lower())
    if parsed is None:
        raise SpecError(f"tags.{PROMOTE_TAG}", f"got {value!r}", PROMOTE_FORMS)
    return parsed


def parse_rescore(value: str | None) -> Rescore | None:
    """What the ``batchpoint/rescore`` tag asks to re-score: the failed files, all of them, or (no tag)
    what the run's kind decides (``dagster_project/scoring_step.py``)."""
    if value is None:
        return None
    stripped = value.strip()
    if stripped == RESCORE_FAILED_FILES:
        return "failed-files"
    if stripped == RESCORE_ALL:
        return "all"
    raise SpecError(f"tags.{RESCORE_TAG}", f"got {value!r}", RESCORE_FORMS)


@dataclass(frozen=True)
class RunChoices:
    """How one run scores its partition."""

    deployment_name: str | None
    """``None``: the endpoint's default deployment."""
    promote: bool
    """Whether a Completed run moves ``latest``."""
    rescore_failed_files: bool
    """Re-score only the files that failed in the partition's newest version."""
    backfill_id: str | None
    rescore_all: bool = False
    """Re-score every file, reusing no earlier version's rows (``batchpoint/rescore: all``)."""
    compare: bool = False
    """Diff the new version against the month's ``latest`` (``batchpoint/compare: latest``)."""


def run_choices(
    tags: Mapping[str, str], *, configured_deployment: str | None, default_deployment: str | None
) -> RunChoices:
    """The choices of a run from its tags and its ``ScoringConfig.deployment_name``.

    ``batchpoint/promote`` left out means: promote when scoring with the endpoint's default
    deployment, not with another one (a challenger must not replace what readers get unasked).
    Raises ``SpecError`` naming the tag for a value it does not know, or when the tag and the run
    config name different deployments.
    """
    tagged = (tags.get(DEPLOYMENT_TAG) or "").strip() or None
    configured = configured_deployment or None
    if tagged and configured and tagged != configured:
        raise SpecError(
            f"tags.{DEPLOYMENT_TAG}",
            f"names {tagged!r} but the run config's deployment_name is {configured!r}",
            "one deployment, in the tag or in the run config",
        )
    deployment = tagged or configured
    promote = parse_promote(tags.get(PROMOTE_TAG))
    if promote is None:
        promote = deployment is None or deployment == default_deployment
    rescore = parse_rescore(tags.get(RESCORE_TAG))
    return RunChoices(
        deployment_name=deployment,
        promote=promote,
        rescore_failed_files=rescore == "failed-files",
        backfill_id=tags.get(BACKFILL_ID_TAG) or None,
        rescore_all=rescore == "all",
        compare=(tags.get(COMPARE_TAG) or "").strip() == COMPARE_LATEST,
    )
