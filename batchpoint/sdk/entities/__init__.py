"""Entities shaped like ``azure.ai.ml.entities``: mutable, built with keywords, converted to spec JSON."""

from batchpoint.sdk.entities.backfill import Backfill, BackfillMonth
from batchpoint.sdk.entities.compute import AmlCompute
from batchpoint.sdk.entities.data import Data
from batchpoint.sdk.entities.deployment import BatchDeployment, ModelBatchDeployment
from batchpoint.sdk.entities.deployment_settings import (
    BatchDeploymentSettings,
    BatchRetrySettings,
    CodeConfiguration,
    ModelBatchDeploymentSettings,
    ResourceConfiguration,
)
from batchpoint.sdk.entities.endpoint import BatchEndpoint, BatchEndpointDefaults
from batchpoint.sdk.entities.environment import Environment
from batchpoint.sdk.entities.inputs import Input
from batchpoint.sdk.entities.job import BatchJob, Job, SystemData
from batchpoint.sdk.entities.job_output import Output
from batchpoint.sdk.entities.model import Model
from batchpoint.sdk.entities.output_version import OutputVersion
from batchpoint.sdk.entities.workspace import Workspace

__all__ = [
    "AmlCompute",
    "Backfill",
    "BackfillMonth",
    "BatchDeployment",
    "BatchDeploymentSettings",
    "BatchEndpoint",
    "BatchEndpointDefaults",
    "BatchJob",
    "BatchRetrySettings",
    "CodeConfiguration",
    "Data",
    "Environment",
    "Input",
    "Job",
    "Model",
    "ModelBatchDeployment",
    "ModelBatchDeploymentSettings",
    "Output",
    "OutputVersion",
    "ResourceConfiguration",
    "SystemData",
    "Workspace",
]
