"""A run that fails before scoring still leaves its logs where ``job download`` finds them."""

from __future__ import annotations

import dagster as dg

from batchpoint.outputs.failed_version import FailedBeforeScoring, write_failed_version
from batchpoint.outputs.layout import OutputLayout
from batchpoint.storage.retrying import with_retries
from dagster_project.platform_resource import Platform


def error_text(exc: BaseException) -> str:
    """How a run's error reads on its job row and in its logs."""
    return exc.description if isinstance(exc, dg.Failure) and exc.description else f"{type(exc).__name__}: {exc}"


def write_failure_logs(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    platform: Platform,
    layout: OutputLayout,
    failed: FailedBeforeScoring,
) -> str | None:
    """Write the failed job's version (``logs/user/job_error.txt``, ``job_result.txt``, manifest) and
    return its folder's URI; ``None`` (with a warning) when the store cannot take it, since the job
    row says why it failed either way."""
    try:
        uri = write_failed_version(with_retries(platform.store, platform.settings), layout, failed)
    except Exception as exc:  # on the failure path: the run's own error must surface, not this one
        context.log.warning(
            f"job {failed.job_id} failed; its logs could not be written to {layout.uri(layout.prefix)}: {exc}"
        )
        return None
    context.log.info(f"job {failed.job_id} failed before scoring; its logs are in {uri}")
    return uri
