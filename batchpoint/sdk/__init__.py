"""The Python SDK, shaped like ``azure.ai.ml``: Azure samples run with only their imports changed.

::

    from batchpoint.sdk import MLClient, Input, DefaultAzureCredential  # any azure.identity credential
    from batchpoint.sdk.entities import BatchEndpoint, ModelBatchDeployment, Model, ...
    from batchpoint.sdk.constants import AssetTypes, BatchDeploymentOutputAction
"""

from batchpoint.sdk import credentials as _credentials
from batchpoint.sdk.client import MLClient
from batchpoint.sdk.constants import AssetTypes, BatchDeploymentOutputAction
from batchpoint.sdk.credentials import *  # noqa: F403 -- every azure.identity name, listed in credentials.__all__
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
    Output,
    ResourceConfiguration,
)
from batchpoint.sdk.poller import LROPoller

__all__ = [  # noqa: PLE0604 -- the credentials' names are azure.identity's, kept in one list
    *_credentials.__all__,
    "AmlCompute",
    "AssetTypes",
    "BatchDeployment",
    "BatchDeploymentOutputAction",
    "BatchEndpoint",
    "BatchJob",
    "BatchRetrySettings",
    "CodeConfiguration",
    "Data",
    "Environment",
    "Input",
    "LROPoller",
    "MLClient",
    "Model",
    "ModelBatchDeployment",
    "ModelBatchDeploymentSettings",
    "Output",
    "ResourceConfiguration",
]
