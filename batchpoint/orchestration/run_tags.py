"""The Dagster run tags batchpoint reads and writes, and the Dagster names the core refers to.

Tags a scoring run of a predictions partition may carry (``docs/backfills-and-versions.md``):

- ``batchpoint/deployment``: the deployment to score with instead of the endpoint's default;
- ``batchpoint/promote``: ``"true"`` | ``"false"``, whether a Completed run moves ``latest``;
- ``batchpoint/rescore``: ``"failed-files"`` to re-score only the files that failed in the
  partition's newest version, ``"all"`` to re-score every file (no reuse of ``latest``'s rows);
- ``dagster/backfill``: set by Dagster on every run of a backfill.

The core may not import Dagster, so the asset key and job name of an endpoint are spelt out here as
``dagster_project/naming.py`` builds them (a Dagster-layer test keeps the two in step).
"""

from __future__ import annotations

import re
from typing import Literal

from batchpoint.errors import SpecError

DEPLOYMENT_TAG = "batchpoint/deployment"
PROMOTE_TAG = "batchpoint/promote"
RESCORE_TAG = "batchpoint/rescore"
ENDPOINT_TAG = "batchpoint/endpoint"
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


def scoring_tags(*, endpoint: str, deployment: str, promote: bool, failed_only: bool) -> dict[str, str]:
    """The tags of a run (or of every run of a backfill) that scores with ``deployment``."""
    tags = {ENDPOINT_TAG: endpoint, DEPLOYMENT_TAG: deployment, PROMOTE_TAG: "true" if promote else "false"}
    if failed_only:
        tags[RESCORE_TAG] = RESCORE_FAILED_FILES
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
