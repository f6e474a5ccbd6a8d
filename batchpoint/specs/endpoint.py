"""``BatchEndpoint``: a named entry point with a default deployment and a data-arrival trigger."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from batchpoint.specs.base import Spec
from batchpoint.specs.free_text import Description, Tags
from batchpoint.specs.landing_prefix import LandingPrefix
from batchpoint.specs.prediction_checks import PredictionChecks


class Partitioning(StrEnum):
    """How landed files are grouped into partitions of the predictions asset."""

    MONTHLY = "monthly"


class DataArrivalTrigger(Spec):
    """Which landing folder feeds the endpoint: files under ``bucket/prefix/<YYYY-MM>/`` are scored.

    batchpoint's own field (Azure has no data-arrival trigger on batch endpoints).
    """

    bucket: str = Field(default="landing", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    prefix: LandingPrefix
    partitioning: Partitioning = Partitioning.MONTHLY
    start_month: str = Field(default="2020-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class OutputPolicy(Spec):
    """How an endpoint's output versions are kept and built (batchpoint's own fields).

    ``keep_versions``: versions kept per partition (the one ``latest`` points at is never deleted);
    ``None`` keeps all. ``incremental`` (default ``True``): a run reuses the rows ``latest`` holds for
    files whose ETag did not change and scores only new or changed files (a scoring script's rows
    per unchanged mini-batch); ``False`` re-scores every file on every run. A backfill re-scores its
    months in full either way (``docs/decisions/every-file-once.md``).
    """

    keep_versions: int | None = Field(default=None, ge=1)
    incremental: bool = True


class EndpointDefaults(Spec):
    """Azure: ``defaults``."""

    deployment_name: str | None = None


class BatchEndpoint(Spec):
    """A batch endpoint (Azure name rules: a letter first, then letters, digits, hyphens; 3-32)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$")
    description: Description = ""
    defaults: EndpointDefaults = Field(default_factory=EndpointDefaults)
    data_arrival: DataArrivalTrigger | None = None
    outputs: OutputPolicy = Field(default_factory=OutputPolicy)
    checks: PredictionChecks = Field(default_factory=PredictionChecks)
    """How every new version is checked before it becomes ``latest`` (``specs/prediction_checks.py``)."""
    tags: Tags = Field(default_factory=dict)
