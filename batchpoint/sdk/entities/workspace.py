"""``Workspace``: the one workspace a batchpoint installation is, as ``ml_client.workspaces`` shows it."""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.entities.entity import Entity, without_none

_FIELDS = ("name", "location", "resource_group", "subscription_id", "display_name", "description", "discovery_url")


class Workspace(Entity):
    """Azure: ``Workspace(name=, location=, resource_group=)``; here ``discovery_url`` is the API's URL."""

    def __init__(
        self,
        *,
        name: str,
        location: str = "local",
        resource_group: str | None = None,
        subscription_id: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        discovery_url: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.location = location
        self.resource_group = resource_group
        self.subscription_id = subscription_id
        self.display_name = display_name or name
        self.description = description
        self.discovery_url = discovery_url
        self.tags = dict(tags or {})
        self.provisioning_state = "Succeeded"

    def _to_dict(self) -> dict[str, Any]:
        return without_none({name: getattr(self, name) for name in _FIELDS})

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Workspace:
        return cls(**{k: data[k] for k in _FIELDS if k in data})
