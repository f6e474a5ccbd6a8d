"""``Registry``: create, read, list and delete endpoints and deployments in a SQL database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from batchpoint.errors import ConflictError, NotFoundError, SpecError
from batchpoint.registry.tables import deployments, endpoints, metadata
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint, EndpointDefaults


def _now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """Endpoints and their deployments, stored as validated JSON specs.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path/registry.db`` or
    ``postgresql+psycopg2://user@host/db``. Tables are created on first use.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        connect_args: dict[str, Any] = {"timeout": 30} if url.startswith("sqlite") else {}
        self._engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        metadata.create_all(self._engine)

    @property
    def engine(self) -> sa.Engine:
        """The database engine, for the management plane's own tables (same database, same pool)."""
        return self._engine

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    # ---- endpoints ---------------------------------------------------------------------
    def create_or_update_endpoint(self, endpoint: BatchEndpoint) -> BatchEndpoint:
        """Store ``endpoint``; its default deployment, if named, must exist."""
        with self._engine.begin() as conn:
            default = endpoint.defaults.deployment_name
            if default and not self._deployment_exists(conn, endpoint.name, default):
                raise SpecError(
                    "defaults.deployment_name",
                    f"deployment {default!r} does not exist on endpoint {endpoint.name!r}",
                    "the name of one of the endpoint's deployments",
                )
            row = {"spec": endpoint.model_dump_json(), "updated_at": _now()}
            updated = conn.execute(endpoints.update().where(endpoints.c.name == endpoint.name).values(**row))
            if updated.rowcount == 0:
                conn.execute(endpoints.insert().values(name=endpoint.name, created_at=_now(), **row))
        return endpoint

    def get_endpoint(self, name: str) -> BatchEndpoint:
        """The endpoint called ``name``; ``NotFoundError`` otherwise."""
        with self._engine.connect() as conn:
            spec = conn.execute(sa.select(endpoints.c.spec).where(endpoints.c.name == name)).scalar()
        if spec is None:
            raise NotFoundError("batch endpoint", name, "list them with `batchpoint batch-endpoint list`")
        return BatchEndpoint.model_validate(json.loads(spec))

    def list_endpoints(self) -> list[BatchEndpoint]:
        """Every endpoint, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(endpoints.c.spec).order_by(endpoints.c.name)).scalars()
            return [BatchEndpoint.model_validate(json.loads(spec)) for spec in rows]

    def delete_endpoint(self, name: str) -> None:
        """Remove an endpoint and all its deployments."""
        self.get_endpoint(name)
        with self._engine.begin() as conn:
            conn.execute(deployments.delete().where(deployments.c.endpoint_name == name))
            conn.execute(endpoints.delete().where(endpoints.c.name == name))

    # ---- deployments -------------------------------------------------------------------
    def create_or_update_deployment(self, deployment: BatchDeployment, *, set_default: bool = False) -> BatchDeployment:
        """Store ``deployment`` under its endpoint; the endpoint's first deployment becomes its default."""
        endpoint = self.get_endpoint(deployment.endpoint_name)
        with self._engine.begin() as conn:
            key = (deployments.c.endpoint_name == deployment.endpoint_name) & (deployments.c.name == deployment.name)
            row = {"spec": deployment.model_dump_json(), "updated_at": _now()}
            if conn.execute(deployments.update().where(key).values(**row)).rowcount == 0:
                conn.execute(
                    deployments.insert().values(
                        endpoint_name=deployment.endpoint_name, name=deployment.name, created_at=_now(), **row
                    )
                )
            if set_default or endpoint.defaults.deployment_name is None:
                updated = endpoint.model_copy(update={"defaults": EndpointDefaults(deployment_name=deployment.name)})
                conn.execute(
                    endpoints.update()
                    .where(endpoints.c.name == endpoint.name)
                    .values(spec=updated.model_dump_json(), updated_at=_now())
                )
        return deployment

    def get_deployment(self, endpoint_name: str, name: str) -> BatchDeployment:
        """One deployment of an endpoint; ``NotFoundError`` naming both otherwise."""
        with self._engine.connect() as conn:
            spec = conn.execute(
                sa.select(deployments.c.spec).where(
                    (deployments.c.endpoint_name == endpoint_name) & (deployments.c.name == name)
                )
            ).scalar()
        if spec is None:
            self.get_endpoint(endpoint_name)
            raise NotFoundError("batch deployment", f"{endpoint_name}/{name}")
        return BatchDeployment.model_validate(json.loads(spec))

    def default_deployment(self, endpoint_name: str) -> BatchDeployment:
        """The deployment an invocation without ``deployment_name`` uses."""
        endpoint = self.get_endpoint(endpoint_name)
        if endpoint.defaults.deployment_name is None:
            raise NotFoundError(
                "default deployment of endpoint",
                endpoint_name,
                "create a deployment or set defaults.deployment_name",
            )
        return self.get_deployment(endpoint_name, endpoint.defaults.deployment_name)

    def list_deployments(self, endpoint_name: str) -> list[BatchDeployment]:
        """The endpoint's deployments, by name."""
        self.get_endpoint(endpoint_name)
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(deployments.c.spec)
                .where(deployments.c.endpoint_name == endpoint_name)
                .order_by(deployments.c.name)
            ).scalars()
            return [BatchDeployment.model_validate(json.loads(spec)) for spec in rows]

    def delete_deployment(self, endpoint_name: str, name: str) -> None:
        """Remove a deployment; refuses the endpoint's default and its last deployment."""
        endpoint = self.get_endpoint(endpoint_name)
        self.get_deployment(endpoint_name, name)
        if endpoint.defaults.deployment_name == name:
            raise ConflictError(
                f"deployment {name!r} is the default of endpoint {endpoint_name!r}; set another default first "
                f"(batchpoint batch-endpoint update --name {endpoint_name} --set defaults.deployment_name=<other>)"
            )
        with self._engine.begin() as conn:
            conn.execute(
                deployments.delete().where(
                    (deployments.c.endpoint_name == endpoint_name) & (deployments.c.name == name)
                )
            )

    @staticmethod
    def _deployment_exists(conn: sa.Connection, endpoint_name: str, name: str) -> bool:
        found = conn.execute(
            sa.select(deployments.c.name).where(
                (deployments.c.endpoint_name == endpoint_name) & (deployments.c.name == name)
            )
        ).first()
        return found is not None
