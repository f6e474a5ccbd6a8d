"""The Python SDK, shaped like ``azure.ai.ml``: Azure samples run with only their imports changed.

::

    from batchpoint.sdk import MLClient, Input, DefaultAzureCredential
    from batchpoint.sdk.entities import BatchEndpoint, ModelBatchDeployment, Model, ...
    from batchpoint.sdk.constants import AssetTypes, BatchDeploymentOutputAction
"""

from batchpoint.sdk.client import MLClient
from batchpoint.sdk.constants import AssetTypes, BatchDeploymentOutputAction
from batchpoint.sdk.credentials import DefaultAzureCredential
from batchpoint.sdk.entities import (
    AmlCompute,
    BatchDeployment,
    BatchEndpoint,
    BatchJob,
    BatchRetrySettings,
    CodeConfiguration,
    Data,
    Environment,
    Input,
    Model,
    ModelBatchDeployment,
    ModelBatchDeploymentSettings,
    ResourceConfiguration,
)
from batchpoint.sdk.poller import LROPoller

__all__ = [
    "AmlCompute",
    "AssetTypes",
    "BatchDeployment",
    "BatchDeploymentOutputAction",
    "BatchEndpoint",
    "BatchJob",
    "BatchRetrySettings",
    "CodeConfiguration",
    "Data",
    "DefaultAzureCredential",
    "Environment",
    "Input",
    "LROPoller",
    "MLClient",
    "Model",
    "ModelBatchDeployment",
    "ModelBatchDeploymentSettings",
    "ResourceConfiguration",
]
