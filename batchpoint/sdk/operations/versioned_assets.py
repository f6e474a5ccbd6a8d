"""Routes shared by environments and data assets: ``/v1/<collection>/{name}/versions/{version}``.

Azure assigns a version when none is given; here an identical registered version is reused,
otherwise the next number is taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from batchpoint.errors import NotFoundError, SpecError
from batchpoint.sdk.transport import ApiTransport
from batchpoint.specs.asset_naming import LATEST

_IGNORED = {"version", "created_at"}


def _content(spec: dict[str, Any]) -> dict[str, Any]:
    # The server fills defaults ("" / [] / {}); compare only what is set.
    return {k: v for k, v in spec.items() if k not in _IGNORED and v not in (None, "", [], {})}


def choose_version(wanted: dict[str, Any], existing: Iterable[dict[str, Any]]) -> tuple[str, bool]:
    """``(version, already_registered)`` for ``wanted``, given the versions the server holds."""
    numbers = [0]
    for spec in existing:
        if _content(spec) == _content(wanted):
            return str(spec["version"]), True
        if str(spec.get("version", "")).isdigit():
            numbers.append(int(spec["version"]))
    return str(max(numbers) + 1), False


def _version_key(spec: dict[str, Any]) -> tuple[int, str]:
    version = str(spec.get("version", ""))
    return (int(version) if version.isdigit() else -1, version)


class VersionedAssets:
    """Spec dicts of one versioned collection (``environments`` or ``data``)."""

    def __init__(self, transport: ApiTransport, collection: str, kind: str) -> None:
        self._api = transport
        self._collection = collection
        self._kind = kind

    def _path(self, name: str, version: str | None = None) -> str:
        path = f"/v1/{self._collection}/{quote(name, safe='')}/versions"
        return path if version is None else f"{path}/{quote(version, safe='')}"

    def register(self, spec: dict[str, Any]) -> dict[str, Any]:
        """PUT ``spec``; without a version, reuse an identical one or take the next number."""
        name = spec.get("name")
        if not name:
            raise SpecError(f"{self._kind}.name", "is missing", "a letter or digit, then letters, digits, _ . -")
        if spec.get("version") is None:
            version, known = choose_version(spec, self.versions(name))
            if known:
                return self.get(name, version)
            spec = {**spec, "version": version}
        answer: dict[str, Any] = self._api.request("PUT", self._path(name, str(spec["version"])), json=spec)
        return answer

    def get(self, name: str, version: str | None = None, label: str | None = None) -> dict[str, Any]:
        """One version, or the latest (``label="latest"`` or no version)."""
        if version is not None:
            answer: dict[str, Any] = self._api.get(self._path(name, str(version)))
            return answer
        if label not in (None, LATEST):
            raise SpecError("label", f"got {label!r}", "`latest`")
        versions = self.versions(name)
        if not versions:
            raise NotFoundError(self._kind, name)
        return max(versions, key=_version_key)

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of ``name`` (none when the name is unknown)."""
        try:
            return self._api.values(self._path(name))
        except NotFoundError:
            return []

    def list(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every asset (latest versions), or every version of ``name``."""
        return self.versions(name) if name else self._api.values(f"/v1/{self._collection}")

    def delete(self, name: str, version: str) -> None:
        """Delete one version."""
        self._api.request("DELETE", self._path(name, str(version)))
