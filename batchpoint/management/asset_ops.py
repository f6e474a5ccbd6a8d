"""``Workspace.environments``, ``.data`` (versioned assets) and ``.compute`` (named pools).

Asset versions are immutable, as in Azure: storing an existing ``name:version`` again succeeds only
with the same spec. A version left out is the next integer. ``latest`` is the newest created.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Generic, TypeVar

import sqlalchemy as sa

from batchpoint.errors import ConflictError, NotFoundError, SpecError
from batchpoint.management.backends import Backends
from batchpoint.registry.tables import computes, data_assets, environments
from batchpoint.registry.timestamps import utc_now
from batchpoint.specs.asset_naming import LATEST, AssetRef, parse_asset_ref
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.data_asset import DataAssetSpec
from batchpoint.specs.environment import EnvironmentSpec

S = TypeVar("S", EnvironmentSpec, DataAssetSpec)  # versioned specs: both have name and version


class VersionedAssetOperations(Generic[S]):
    """create_or_update / get / list / delete of one kind of versioned asset."""

    def __init__(self, backends: Backends, table: sa.Table, spec_type: type[S], kind: str, cli: str) -> None:
        self._engine = backends.registry.engine
        self._table = table
        self._spec_type: type[S] = spec_type
        self._kind = kind
        self._cli = cli

    def create_or_update(self, spec: S) -> S:
        """Store a version; the next integer version when ``spec.version`` is None."""
        t = self._table
        with self._engine.begin() as conn:
            if spec.version is None:
                known = conn.execute(sa.select(t.c.version).where(t.c.name == spec.name)).scalars().all()
                spec = spec.model_copy(
                    update={"version": str(max((int(v) for v in known if v.isdigit()), default=0) + 1)}
                )
            key = (t.c.name == spec.name) & (t.c.version == spec.version)
            stored = conn.execute(sa.select(t.c.spec).where(key)).scalar()
            if stored is not None:
                if self._spec_type.model_validate(json.loads(stored)) == spec:
                    return spec
                raise ConflictError(
                    f"{self._kind} {spec.name}:{spec.version} exists with a different spec; versions are immutable: "
                    f"give a new version (or leave version out to get the next one)"
                )
            conn.execute(
                t.insert().values(
                    name=spec.name, version=spec.version, spec=spec.model_dump_json(), created_at=utc_now()
                )
            )
        return spec

    def get(self, name: str, version: str | None = None, label: str | None = None) -> S:
        """One version, or the latest when ``version`` is None (``label`` may only be ``latest``)."""
        if label not in (None, LATEST):
            raise SpecError("label", f"got {label!r}", "`latest`")
        t = self._table
        query = sa.select(t.c.spec).where(t.c.name == name)
        if version is not None:
            query = query.where(t.c.version == str(version))
        with self._engine.connect() as conn:
            stored = conn.execute(query.order_by(t.c.created_at.desc()).limit(1)).scalar()
        if stored is None:
            what = f"{name}:{version}" if version is not None else name
            raise NotFoundError(self._kind, what, f"list them with `batchpoint {self._cli} list`")
        found: S = self._spec_type.model_validate(json.loads(stored))
        return found

    def resolve(self, reference: str, field: str) -> S:
        """The asset ``azureml:<name>:<version>``, ``azureml:<name>@latest`` or ``<name>`` refers to.

        ``SpecError`` naming ``field`` when the reference is malformed or names nothing.
        """
        ref: AssetRef = parse_asset_ref(reference, field)
        try:
            return self.get(ref.name, ref.version)
        except NotFoundError as exc:
            raise SpecError(field, f"{reference} refers to no registered {self._kind} ({exc})", str(ref)) from exc

    def list(self, name: str | None = None) -> list[S]:
        """Versions of ``name`` (newest first), or the latest version of every asset (by name)."""
        t = self._table
        query = sa.select(t.c.name, t.c.spec).order_by(t.c.name, t.c.created_at.desc())
        if name is not None:
            query = query.where(t.c.name == name)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        if name is not None:
            return [self._spec_type.model_validate(json.loads(r.spec)) for r in rows]
        latest: dict[str, S] = {}
        for row in rows:
            latest.setdefault(row.name, self._spec_type.model_validate(json.loads(row.spec)))
        return list(latest.values())

    def delete(self, name: str, version: str | None = None) -> None:
        """Delete one version, or every version of ``name`` when ``version`` is None."""
        t = self._table
        key = t.c.name == name if version is None else (t.c.name == name) & (t.c.version == str(version))
        with self._engine.begin() as conn:
            if conn.execute(t.delete().where(key)).rowcount == 0:
                raise NotFoundError(self._kind, name if version is None else f"{name}:{version}")


def deployments_using(backends: Backends, field: str, matches: Callable[[str], bool]) -> list[str]:
    """``endpoint/deployment`` of every deployment whose ``field`` (environment or compute) matches."""
    registry = backends.registry
    return [
        f"{endpoint.name}/{deployment.name}"
        for endpoint in registry.list_endpoints()
        for deployment in registry.list_deployments(endpoint.name)
        if (value := getattr(deployment, field)) is not None and matches(str(value))
    ]


class EnvironmentOperations(VersionedAssetOperations[EnvironmentSpec]):
    """Environments (Azure ``ml_client.environments``)."""

    def __init__(self, backends: Backends) -> None:
        super().__init__(backends, environments, EnvironmentSpec, "environment", "environment")
        self._backends = backends

    def delete(self, name: str, version: str | None = None) -> None:
        """Delete one version (or all) unless a deployment runs in it: ``ConflictError`` naming them."""
        pinned = f"azureml:{name}:"
        users = deployments_using(
            self._backends,
            "environment",
            lambda ref: ref.startswith(pinned) and (version is None or ref == f"{pinned}{version}"),
        )
        if users:
            what = f"{name}:{version}" if version is not None else name
            raise ConflictError(
                f"environment {what} is used by deployment(s) {', '.join(users)}; "
                "point them at another environment or delete them first"
            )
        super().delete(name, version)


class DataOperations(VersionedAssetOperations[DataAssetSpec]):
    """Data assets (Azure ``ml_client.data``)."""

    def __init__(self, backends: Backends) -> None:
        super().__init__(backends, data_assets, DataAssetSpec, "data asset", "data")


class ComputeOperations:
    """Compute pools (Azure ``ml_client.compute``)."""

    def __init__(self, backends: Backends) -> None:
        self._engine = backends.registry.engine
        self._backends = backends

    def create_or_update(self, compute: ComputeSpec) -> ComputeSpec:
        """Store ``compute`` (replacing one of the same name)."""
        row = {"spec": compute.model_dump_json(), "updated_at": utc_now()}
        with self._engine.begin() as conn:
            if conn.execute(computes.update().where(computes.c.name == compute.name).values(**row)).rowcount == 0:
                conn.execute(computes.insert().values(name=compute.name, created_at=utc_now(), **row))
        return compute

    def get(self, name: str) -> ComputeSpec:
        """The compute called ``name``."""
        with self._engine.connect() as conn:
            stored = conn.execute(sa.select(computes.c.spec).where(computes.c.name == name)).scalar()
        if stored is None:
            raise NotFoundError("compute", name, "list them with `batchpoint compute list`")
        return ComputeSpec.model_validate(json.loads(stored))

    def resolve(self, reference: str, field: str) -> ComputeSpec:
        """The compute ``azureml:<name>`` or ``<name>`` refers to; ``SpecError`` naming ``field`` otherwise."""
        ref = parse_asset_ref(reference, field)
        if ref.version is not None:
            raise SpecError(field, f"got {reference!r}: computes have no versions", "`azureml:<name>` or `<name>`")
        try:
            return self.get(ref.name)
        except NotFoundError as exc:
            raise SpecError(field, f"{reference} refers to no registered compute", "`azureml:<name>`") from exc

    def list(self) -> list[ComputeSpec]:
        """Every compute, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(computes.c.spec).order_by(computes.c.name)).scalars().all()
        return [ComputeSpec.model_validate(json.loads(s)) for s in rows]

    def delete(self, name: str) -> None:
        """Delete the compute called ``name`` unless a deployment names it (``ConflictError``)."""
        users = deployments_using(self._backends, "compute", lambda ref: ref in {f"azureml:{name}", name})
        if users:
            raise ConflictError(
                f"compute {name} is used by deployment(s) {', '.join(users)}; "
                "point them at another compute or delete them first"
            )
        with self._engine.begin() as conn:
            if conn.execute(computes.delete().where(computes.c.name == name)).rowcount == 0:
                raise NotFoundError("compute", name)
