"""Where a job's outputs go in ``Settings.output_bucket``.

::

    <endpoint>/<partition>/latest.json                          → the version users should read
    <endpoint>/<partition>/versions/<version_id>/<output_file_name>
    <endpoint>/<partition>/versions/<version_id>/manifest.json
    <endpoint>/<partition>/versions/<version_id>/logs/user/job_error.txt
    <endpoint>/<partition>/versions/<version_id>/logs/user/job_progress_overview.txt
    <endpoint>/<partition>/versions/<version_id>/logs/user/job_result.txt

An invoked job writes to a folder of its own instead of ``<endpoint>/<partition>/``: by default
``<endpoint>/jobs/<job name>/`` in the output bucket, or the ``output_path`` the request named
(``OutputLayout.at``); below that folder the layout is the same.

Version ids sort by the time the job started: ``20261124T101500.123Z-<job>``, where ``<job>`` is an
invoked job's whole name (``batchjob-0123456789ab``) and, for a Dagster run, the run id's first 8 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

LATEST_FILE = "latest.json"
MANIFEST_FILE = "manifest.json"
VERSIONS_FOLDER = "versions"
JOB_ERROR_LOG = "logs/user/job_error.txt"
JOB_PROGRESS_LOG = "logs/user/job_progress_overview.txt"
JOB_RESULT_LOG = "logs/user/job_result.txt"

_UNSAFE = re.compile(r"[^A-Za-z0-9]")
_JOB_NAME = re.compile(r"^batchjob-[0-9a-f]{12}$")


def new_version_id(job_id: str, started_at: datetime) -> str:
    """A version id unique per job and sortable by start time (UTC, milliseconds)."""
    when = started_at.astimezone(UTC)
    # An invoked job's name whole: its first 8 characters are "batchjob" for every job.
    short = job_id if _JOB_NAME.match(job_id) else _UNSAFE.sub("", job_id).lower()[:8] or "job"
    return f"{when:%Y%m%dT%H%M%S}.{when.microsecond // 1000:03d}Z-{short}"


@dataclass(frozen=True)
class OutputLayout:
    """The keys of one endpoint partition's outputs."""

    bucket: str
    endpoint: str
    partition: str
    folder: str | None = None
    """Key prefix of the outputs (ends with ``/``) when not ``<endpoint>/<partition>/``."""

    @classmethod
    def at(cls, uri: str, endpoint: str, job_name: str) -> OutputLayout:
        """An invoked job's layout, rooted at its output folder ``s3://bucket/prefix/``.

        Its ``partition`` is the job's name: an invoked job has no month, and its manifest and
        version id name the job instead.
        """
        if not uri.startswith("s3://"):
            raise ValueError(f"an output folder must be `s3://<bucket>/<prefix>/`, got {uri!r}")
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        prefix = prefix.strip("/")
        return cls(bucket, endpoint, job_name, f"{prefix}/" if prefix else "")

    @property
    def prefix(self) -> str:
        """``<endpoint>/<partition>/``, or the folder given."""
        return self.folder if self.folder is not None else f"{self.endpoint}/{self.partition}/"

    @property
    def versions_prefix(self) -> str:
        """Folder holding every version."""
        return f"{self.prefix}{VERSIONS_FOLDER}/"

    @property
    def latest_key(self) -> str:
        """The ``latest.json`` pointer."""
        return f"{self.prefix}{LATEST_FILE}"

    def version_prefix(self, version_id: str) -> str:
        """Folder of one version."""
        return f"{self.versions_prefix}{version_id}/"

    def key(self, version_id: str, relative: str) -> str:
        """Key of ``relative`` (a file name or ``logs/user/...``) inside a version."""
        return f"{self.version_prefix(version_id)}{relative}"

    def manifest_key(self, version_id: str) -> str:
        """The version's manifest."""
        return self.key(version_id, MANIFEST_FILE)

    def uri(self, key: str) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{key}"
