"""What a scoring run's tags and run config ask of it: which deployment, promote or not, what to re-score.

Pure (no Dagster import): the step hands over ``context.run.tags``. A data-arrival run has none of
batchpoint's tags, so it scores with the default deployment and promotes; a backfill sets them on
every run (``batchpoint.orchestration.run_tags``); a backfill started from Dagster's UI has none
either and behaves like data arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from batchpoint.errors import SpecError
from batchpoint.orchestration.run_tags import (
    BACKFILL_ID_TAG,
    DEPLOYMENT_TAG,
    PROMOTE_TAG,
    RESCORE_TAG,
    parse_promote,
    parse_rescore,
)


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
    )
