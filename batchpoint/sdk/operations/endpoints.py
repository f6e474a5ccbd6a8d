"""``ml_client.batch_endpoints``: create, read, delete, invoke endpoints and list their jobs."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from batchpoint.errors import NotFoundError
from batchpoint.sdk.backfill_poller import BackfillPoller
from batchpoint.sdk.entities.backfill import Backfill
from batchpoint.sdk.entities.endpoint import BatchEndpoint
from batchpoint.sdk.entities.entity import without_none
from batchpoint.sdk.entities.inputs import Input
from batchpoint.sdk.entities.job import BatchJob
from batchpoint.sdk.entities.job_output import Output
from batchpoint.sdk.invocation import invoke_body, output_path_of
from batchpoint.sdk.poller import LROPoller
from batchpoint.sdk.transport import ApiTransport
from batchpoint.sdk.uploads import existing_local, is_remote, upload_local


def segment(value: str) -> str:
    """``value`` safe as one URL path segment."""
    return quote(str(value), safe="")


def resolve_input_path(transport: ApiTransport, path: str | Path, field: str) -> str:
    """A remote path as it is; a local one uploaded, as its ``s3://`` URI."""
    if is_remote(path):
        return str(path)
    return upload_local(transport, existing_local(path, field), field)


class BatchEndpointOperations:
    """Azure: ``MLClient.batch_endpoints``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._api = transport

    def begin_create_or_update(self, endpoint: BatchEndpoint) -> LROPoller[BatchEndpoint]:
        """Create the endpoint or replace its description, defaults, trigger and tags."""
        answer = self._api.request(
            "PUT", f"/v1/batch-endpoints/{segment(str(endpoint.name))}", json=endpoint._to_dict()
        )
        return LROPoller(BatchEndpoint._from_dict(answer))

    def get(self, name: str) -> BatchEndpoint:
        """One endpoint; ``NotFoundError`` naming it otherwise."""
        return BatchEndpoint._from_dict(self._api.get(f"/v1/batch-endpoints/{segment(name)}"))

    def list(self) -> list[BatchEndpoint]:
        """Every endpoint."""
        return [BatchEndpoint._from_dict(d) for d in self._api.values("/v1/batch-endpoints")]

    def begin_delete(self, name: str) -> LROPoller[None]:
        """Delete the endpoint and its deployments."""
        self._api.request("DELETE", f"/v1/batch-endpoints/{segment(name)}")
        return LROPoller(None)

    def invoke(
        self,
        endpoint_name: str,
        *,
        input: Input | str | Path | None = None,
        inputs: Mapping[str, Input | str | Path] | None = None,
        deployment_name: str | None = None,
        output_path: str | None = None,
        params_override: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        experiment_name: str | None = None,
        outputs: Mapping[str, Output | str] | None = None,
    ) -> BatchJob:
        """Start a job on the endpoint (its default deployment unless ``deployment_name``); returns at once.

        Local input paths are uploaded first. ``experiment_name`` is accepted (jobs are grouped by endpoint).
        ``outputs={"score": Output(path=...)}`` is Azure's form of ``output_path``.
        """
        body = invoke_body(
            input=input,
            inputs=inputs,
            deployment_name=deployment_name,
            output_path=output_path_of(output_path, outputs),
            params_override=params_override,
            resolve=lambda path, field: resolve_input_path(self._api, path, field),
        )
        answer = self._api.request("POST", f"/v1/batch-endpoints/{segment(endpoint_name)}/invoke", json=body)
        return BatchJob(answer)

    def list_jobs(self, endpoint_name: str) -> builtins.list[BatchJob]:
        """The endpoint's jobs, newest first."""
        return [BatchJob(d) for d in self._api.values(f"/v1/batch-endpoints/{segment(endpoint_name)}/jobs")]

    def begin_backfill(
        self,
        endpoint_name: str,
        *,
        from_month: str,
        to_month: str,
        deployment_name: str | None = None,
        failed_only: bool = False,
        promote: bool | None = None,
        compare: bool = False,
    ) -> BackfillPoller:
        """Re-score months ``from_month``..``to_month`` (``YYYY-MM``); ``.result()`` waits for every month's run.

        ``promote`` (move ``latest``) defaults to true with the default deployment, false with another;
        ``failed_only`` re-scores only the failed files of months whose newest version had any;
        ``compare`` diffs each month's new version against its ``latest`` (``begin_compare``).
        """
        body = without_none(
            {
                "from": from_month,
                "to": to_month,
                "deployment_name": deployment_name,
                "failed_only": failed_only,
                "promote": promote,
                "compare": compare or None,
            }
        )
        answer = self._api.request("POST", f"/v1/batch-endpoints/{segment(endpoint_name)}/backfills", json=body)
        return BackfillPoller(Backfill(answer), self.get_backfill)

    def begin_compare(self, endpoint_name: str, *, deployment_name: str, partition: str) -> BackfillPoller:
        """Score month ``partition`` with ``deployment_name`` without promoting it, and diff it against the month's
        ``latest`` row by row (a challenger's report: class agreement, number differences, the rows that differ
        most). ``.result()`` waits; ``compare_report`` then reads the report.
        """
        return self.begin_backfill(
            endpoint_name,
            from_month=partition,
            to_month=partition,
            deployment_name=deployment_name,
            promote=False,
            compare=True,
        )

    def compare_report(self, endpoint_name: str, partition: str, version: str) -> dict[str, Any]:
        """The challenger report of version ``version`` of ``partition`` (the manifest's ``compare``)."""
        manifest = self._api.get(
            f"/v1/batch-endpoints/{segment(endpoint_name)}/outputs/{segment(partition)}/versions/{segment(version)}"
        )
        report = manifest.get("compare")
        if not isinstance(report, dict):
            raise NotFoundError(
                "challenger report", f"{endpoint_name} {partition} {version}", "a version of a compare run"
            )
        return report

    def get_backfill(self, backfill_id: str) -> Backfill:
        """A backfill with each month's run status and job."""
        return Backfill(self._api.get(f"/v1/backfills/{segment(backfill_id)}"))
