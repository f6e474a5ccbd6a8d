"""``BatchEndpoint`` and its ``defaults``, mutable like Azure's."""

from __future__ import annotations

import warnings
from typing import Any

from batchpoint.sdk.entities.entity import Entity, as_entity, without_none
from batchpoint.specs.yaml_loading import AzureFieldWarning


class BatchEndpointDefaults(Entity):
    """Azure: ``endpoint.defaults``; ``deployment_name`` is the deployment ``invoke`` uses."""

    def __init__(self, *, deployment_name: str | None = None) -> None:
        self.deployment_name = deployment_name

    def _to_dict(self) -> dict[str, Any]:
        return without_none({"deployment_name": self.deployment_name})


class BatchEndpoint(Entity):
    """A named entry point; ``defaults.deployment_name`` picks the deployment invoked by default."""

    def __init__(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        defaults: BatchEndpointDefaults | dict[str, Any] | None = None,
        default_deployment_name: str | None = None,
        data_arrival: dict[str, Any] | None = None,
        auth_mode: str | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        # Kept as given, a dict included: Azure notebooks write ``endpoint.defaults = {}`` and then
        # ``endpoint.defaults["deployment_name"] = ...``, so the dict is read when the spec is built.
        self.defaults: BatchEndpointDefaults | dict[str, Any] = (
            defaults if defaults is not None else BatchEndpointDefaults(deployment_name=default_deployment_name)
        )
        self.data_arrival = data_arrival
        if auth_mode is not None:
            warnings.warn(
                "BatchEndpoint.auth_mode has no meaning in batchpoint (the API uses bearer tokens); ignored",
                AzureFieldWarning,
                stacklevel=2,
            )
        self.auth_mode = auth_mode
        self.provisioning_state = "Succeeded"

    @property
    def id(self) -> str:
        """Azure-style reference to the endpoint."""
        return f"azureml:{self.name}"

    def _to_dict(self) -> dict[str, Any]:
        return without_none(
            {
                "name": self.name,
                "description": self.description,
                "defaults": as_entity(self.defaults or {}, BatchEndpointDefaults, "BatchEndpoint.defaults")._to_dict(),
                "data_arrival": self.data_arrival,
                "tags": self.tags,
            }
        )

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> BatchEndpoint:
        return cls(
            name=data["name"],
            description=data.get("description"),
            tags=data.get("tags"),
            defaults=BatchEndpointDefaults(**(data.get("defaults") or {})),
            data_arrival=data.get("data_arrival"),
        )
