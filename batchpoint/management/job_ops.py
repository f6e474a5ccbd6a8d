"""``Workspace.jobs``: invoke an endpoint, follow, cancel and read jobs; record what runs report.

``invoke`` writes the job row and its ``invocations`` outbox message in one transaction and returns
at once; the relay publishes the message and the Dagster sensor starts the run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

import sqlalchemy as sa

from batchpoint.errors import SpecError, StackError
from batchpoint.management.asset_ops import ComputeOperations, DataOperations
from batchpoint.management.backends import Backends
from batchpoint.management.job_inputs import resolve_inputs
from batchpoint.management.job_records import (
    end_with_run,
    finished_values,
    job_info,
    load,
    progress_json,
    update_unless_ended,
)
from batchpoint.management.watched_folders import check_output_path
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG
from batchpoint.registry.outbox import add_message
from batchpoint.registry.tables import jobs
from batchpoint.registry.timestamps import utc_now
from batchpoint.specs.datastore_uri import datastore_folder_in
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.job import (
    InvocationMessage,
    InvokeRequest,
    JobInfo,
    JobInput,
    JobProgress,
    JobStatus,
    JobTrigger,
)
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.port import ObjectInfo

LOG_FILES = (JOB_PROGRESS_LOG, JOB_RESULT_LOG, JOB_ERROR_LOG)
# Named here: the class's own `list` method shadows the builtin in its annotations.
JobInfos = list[JobInfo]
ObjectInfos = list[ObjectInfo]


def new_job_name() -> str:
    """``batchjob-<uuid12>``."""
    return f"batchjob-{uuid.uuid4().hex[:12]}"


class JobOperations:
    """Jobs (Azure ``ml_client.jobs`` and ``batch_endpoints.invoke``)."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends
        self._engine = backends.registry.engine
        self._data = DataOperations(backends)
        self._computes = ComputeOperations(backends)

    # ---- invoke ---------------------------------------------------------------------------
    def invoke(self, endpoint: str, request: InvokeRequest) -> JobInfo:
        """Check the request, then create the job (Preparing) and its invocation message together.

        ``output_path`` may not overlap any endpoint's landing folder (``watched_folders``).
        """
        registry = self._b.registry
        registry.get_endpoint(endpoint)
        # Azure's `azureml://datastores/workspaceblobstore/paths/...` is a folder of the output bucket.
        output_path = (
            datastore_folder_in(request.output_path, self._b.settings.output_bucket) if request.output_path else None
        )
        if output_path:
            check_output_path(output_path, registry.list_endpoints())
        deployment: BatchDeployment = (
            registry.get_deployment(endpoint, request.deployment_name)
            if request.deployment_name
            else registry.default_deployment(endpoint)
        )
        self._check_instance_count(request.instance_count, deployment)
        inputs = resolve_inputs(request.inputs, self._data, self._b.store, self._b.settings)
        name = new_job_name()
        output = output_path or f"s3://{self._b.settings.output_bucket}/{endpoint}/jobs/{name}/"
        self._b.store.ensure_bucket(split_s3_uri(output)[0])  # the run must be able to write there
        message = InvocationMessage(
            job_name=name,
            endpoint_name=endpoint,
            deployment_name=deployment.name,
            inputs=inputs,
            output_path=output,
            overrides=request.overrides(),
        )
        spec = {
            "inputs": {k: v.model_dump(mode="json") for k, v in inputs.items()},
            "requested_inputs": {k: v.model_dump(mode="json") for k, v in request.inputs.items()},
            "output_path": output,
            "overrides": message.overrides.model_dump(mode="json", exclude_none=True),
        }
        with self._engine.begin() as conn:
            self._insert(conn, name, endpoint, deployment.name, JobTrigger.INVOKE, JobStatus.PREPARING, spec, output)
            add_message(conn, self._b.settings.invocations_topic, name, message.model_dump_json())
        return self.get(name)

    def _check_instance_count(self, instance_count: int | None, deployment: BatchDeployment) -> None:
        # A job may not ask for more instances than the deployment's compute pool has, as at deployment time.
        if instance_count is None or deployment.compute is None:
            return
        compute = self._computes.resolve(deployment.compute, "compute")
        if instance_count > compute.max_instances:
            raise SpecError(
                "instance_count",
                f"{instance_count} is more than compute {compute.name!r} allows",
                f"at most its max_instances, {compute.max_instances}",
            )

    def _insert(
        self,
        conn: sa.Connection,
        name: str,
        endpoint: str,
        deployment: str,
        trigger: JobTrigger,
        status: JobStatus,
        spec: Mapping[str, object],
        output_uri: str | None,
        dagster_run_id: str | None = None,
    ) -> None:
        now = utc_now()
        conn.execute(
            jobs.insert().values(
                name=name,
                endpoint_name=endpoint,
                deployment_name=deployment,
                trigger=trigger.value,
                status=status.value,
                spec=json.dumps(spec),
                progress=JobProgress().model_dump_json(),
                output_uri=output_uri,
                dagster_run_id=dagster_run_id,
                created_at=now,
                started_at=now if status is JobStatus.RUNNING else None,
            )
        )

    # ---- read -----------------------------------------------------------------------------
    def get(self, name: str) -> JobInfo:
        """One job; ``NotFoundError`` naming it otherwise."""
        with self._engine.connect() as conn:
            return job_info(load(conn, name), self._b.settings.dagster_url)

    def list(self, endpoint: str | None = None, deployment: str | None = None, limit: int = 100) -> JobInfos:
        """Jobs, newest first, of an endpoint and/or deployment (the endpoint must exist when named)."""
        if endpoint is not None:
            self._b.registry.get_endpoint(endpoint)
        query = sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.name).limit(max(1, min(limit, 1000)))
        if endpoint is not None:
            query = query.where(jobs.c.endpoint_name == endpoint)
        if deployment is not None:
            query = query.where(jobs.c.deployment_name == deployment)
        with self._engine.connect() as conn:
            return [job_info(row, self._b.settings.dagster_url) for row in conn.execute(query).all()]

    def logs(self, name: str) -> str:
        """The job's user logs (progress, result, error) from its output, or ``""`` before it wrote any."""
        found = {o.key: o for o in self.outputs(name) if any(o.key.endswith(f) for f in LOG_FILES)}
        if not found:
            return ""
        # A folder holding several versions: read the newest (version ids sort by start time).
        newest = max(key.rsplit("logs/user/", 1)[0] for key in found)
        parts = []
        for log in LOG_FILES:
            info = found.get(newest + log)
            if info is not None:
                text = self._b.store.get_bytes(info.bucket, info.key).decode("utf-8", errors="replace")
                parts.append(f"==> {log} <==\n{text.rstrip()}\n")
        return "\n".join(parts)

    def outputs(self, name: str) -> ObjectInfos:
        """Objects under the job's output folder (``[]`` while it has written none)."""
        job = self.get(name)
        if not job.output_uri:
            return []
        bucket, prefix = split_s3_uri(job.output_uri)
        return list(self._b.store.list(bucket, prefix))

    # ---- cancel ---------------------------------------------------------------------------
    def cancel(self, name: str) -> JobInfo:
        """Mark the job Canceled unless it ended, and terminate its Dagster run if it has one."""
        with self._engine.begin() as conn:
            canceled = update_unless_ended(
                conn, name, {"status": JobStatus.CANCELED.value, "ended_at": utc_now(), "error": "canceled by user"}
            )
        job = self.get(name)
        if canceled and job.dagster_run_id:
            try:
                self._b.dagster.terminate_run(job.dagster_run_id)
            except StackError as exc:
                with self._engine.begin() as conn:
                    note = f"canceled by user; terminating Dagster run {job.dagster_run_id} failed: {exc}"
                    conn.execute(jobs.update().where(jobs.c.name == name).values(error=note))
                job = self.get(name)
        return job

    # ---- what the Dagster layer records -----------------------------------------------------
    def record_started(self, name: str, *, dagster_run_id: str | None = None) -> JobInfo:
        """The job's run started: Running, with its run id (no effect on an ended job)."""
        values: dict[str, object] = {"status": JobStatus.RUNNING.value, "started_at": utc_now()}
        if dagster_run_id:
            values["dagster_run_id"] = dagster_run_id
        with self._engine.begin() as conn:
            update_unless_ended(conn, name, values)
        return self.get(name)

    def record_progress(self, name: str, progress: JobProgress | Mapping[str, int]) -> None:
        """Store how far the job is (``mini_batches_done``, ``files_done``, ...)."""
        with self._engine.begin() as conn:
            update_unless_ended(conn, name, {"progress": progress_json(progress)})

    def record_finished(
        self,
        name: str,
        *,
        status: JobStatus,
        output_uri: str | None = None,
        error: str | None = None,
        progress: JobProgress | Mapping[str, int] | None = None,
    ) -> JobInfo:
        """The run ended: Completed / Failed / Canceled, where its output is, why it failed."""
        with self._engine.begin() as conn:
            update_unless_ended(conn, name, finished_values(JobStatus(status), output_uri, error, progress))
        return self.get(name)

    def record_run_ended(
        self, dagster_run_id: str, run_status: str, *, job_name: str | None = None, why: str = ""
    ) -> JobInfos:
        """A Dagster run ended FAILURE or CANCELED: end its jobs that have not (``end_with_run``)."""
        with self._engine.begin() as conn:
            names = end_with_run(conn, dagster_run_id, run_status, job_name, why)
        return [self.get(name) for name in names]

    def record_data_arrival_job(
        self,
        endpoint: str,
        deployment: str,
        *,
        partition: str,
        inputs: Mapping[str, JobInput],
        output_uri: str | None = None,
        dagster_run_id: str | None = None,
        trigger: JobTrigger = JobTrigger.DATA_ARRIVAL,
    ) -> JobInfo:
        """A job row (Running) for a run started by data arrival or a backfill, so it lists with the rest."""
        if trigger is JobTrigger.INVOKE:
            raise SpecError("trigger", "invoke jobs are created by jobs.invoke", "data-arrival or backfill")
        name = new_job_name()
        spec = {"inputs": {k: v.model_dump(mode="json") for k, v in inputs.items()}, "partition": partition}
        with self._engine.begin() as conn:
            self._insert(conn, name, endpoint, deployment, trigger, JobStatus.RUNNING, spec, output_uri, dagster_run_id)
        return self.get(name)
