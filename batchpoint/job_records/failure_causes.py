"""Why a file failed: its own content, or the infrastructure around it (the store, mostly).

The difference decides everything that follows a failure (``docs/scoring-runtime.md``):

- ``content``: the file as it is cannot be scored by the deployment (unreadable, wrong columns, the
  model or ``run()`` rejects it, it is gone). A rerun fails the same way. It counts against
  ``error_threshold`` and a Completed version may hold it.
- ``infrastructure``: something the file has nothing to do with failed for longer than the retry
  budget (the store unreachable, a connection reset, a timeout). A rerun may succeed. It is never
  counted against ``error_threshold``: the job fails instead, so ``latest`` never holds it, and
  reconciliation takes a ``latest`` that holds one (written before this rule) as not done.

Errors are classified by their ``retriable`` flag (``batchpoint/errors.py``): a retriable error
that outlasted the retries is infrastructure, any other is the file's.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from batchpoint.errors import BatchpointError


class FailureCause(StrEnum):
    """What a failed file's failure is attributed to (the manifest's ``inputs[].cause``)."""

    CONTENT = "content"
    INFRASTRUCTURE = "infrastructure"


# The words the stager of manifest format 2 wrote for a failed download: then the only failure
# a store outage produced, and counted as the file's own.
_LEGACY_DOWNLOAD_FAILURE = "could not download "


def cause_of(error: BatchpointError) -> FailureCause:
    """The cause of a failure from its error: retriable (still failing after the retries) is infrastructure."""
    return FailureCause.INFRASTRUCTURE if error.retriable else FailureCause.CONTENT


def recorded_cause(entry: Mapping[str, Any]) -> FailureCause | None:
    """The cause a manifest ``inputs[]`` entry records; ``None`` for a file that did not fail.

    Manifests before format 3 have no ``cause``: their failed downloads read as infrastructure (an
    outage was counted against the file then), every other failure as content.
    """
    if entry.get("status") != "failed":
        return None
    raw = entry.get("cause")
    if raw is not None:
        try:
            return FailureCause(str(raw))
        except ValueError:
            return FailureCause.INFRASTRUCTURE  # a cause this version does not know is not the file's fault
    error = str(entry.get("error") or "")
    return FailureCause.INFRASTRUCTURE if error.startswith(_LEGACY_DOWNLOAD_FAILURE) else FailureCause.CONTENT
