"""``Workspace``: the management plane's one entry point, shaped like Azure's ``MLClient``.

::

    ws = Workspace(Settings.from_env())
    ws.models.create(ModelSpec(name="sales", type="mlflow_model"), Path("model"))
    ws.batch_endpoints.create_or_update(BatchEndpoint(name="sales-forecast"))
    ws.batch_deployments.create_or_update(deployment, set_default=True)
    job = ws.jobs.invoke("sales-forecast", InvokeRequest(inputs={"input": JobInput(path="s3://...")}))

Errors callers should expect: ``SpecError`` (bad input, names the field), ``NotFoundError``,
``ConflictError``; ``ModelError``/``StorageError``/``StackError`` when a service fails.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from batchpoint.config import Settings
from batchpoint.management.asset_ops import ComputeOperations, DataOperations, EnvironmentOperations
from batchpoint.management.backends import Backends
from batchpoint.management.backfill_ops import BackfillOperations
from batchpoint.management.deployment_ops import DeploymentOperations
from batchpoint.management.endpoint_ops import EndpointOperations
from batchpoint.management.job_ops import JobOperations
from batchpoint.management.model_ops import ModelOperations
from batchpoint.management.output_ops import OutputOperations
from batchpoint.management.token_ops import TokenOperations
from batchpoint.registry.store import Registry
from batchpoint.storage.port import ObjectStore

if TYPE_CHECKING:  # importing MLflow takes seconds; the registry adapter is made on first use
    from batchpoint.models.model_registry import ModelRegistry


class Workspace:
    """Operations on every entity, over the registry database, MLflow and S3 of ``settings``."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: Registry | None = None,
        store: ObjectStore | None = None,
        models: ModelRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.backends = Backends(settings, registry=registry, store=store, models=models)
        self.batch_endpoints = EndpointOperations(self.backends)
        self.batch_deployments = DeploymentOperations(self.backends)
        self.models = ModelOperations(self.backends)
        self.environments = EnvironmentOperations(self.backends)
        self.compute = ComputeOperations(self.backends)
        self.data = DataOperations(self.backends)
        self.jobs = JobOperations(self.backends)
        self.tokens = TokenOperations(self.backends)
        self.outputs = OutputOperations(self.backends)
        self.backfills = BackfillOperations(self.backends)

    @property
    def store(self) -> ObjectStore:
        """The object store (S3) the workspace reads inputs and writes code and outputs to."""
        return self.backends.store

    def close(self) -> None:
        """Release database connections."""
        self.backends.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
