"""The manifest's nested sections that say what ran: deployment, model, runtime, workers, mini-batches, reuse.

Each is frozen, writes its JSON object with ``to_dict`` (keys in the order manifests have always
had) and reads one back with ``from_dict``, tolerant of manifests of older versions (``json_fields``).
The figures (totals, plan, timings, output) are in ``manifest_figures.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from batchpoint.job_records.mini_batch_summary import MiniBatchSummary
from batchpoint.outputs.json_fields import entries, integer, section, text, texts
from batchpoint.specs.deployment import BatchDeployment


@dataclass(frozen=True)
class DeploymentSection:
    """The deployment as it was used; its environment variables by name only (values may be secrets)."""

    name: str | None
    model: str | None
    instance_count: int | None
    workers: int | None
    settings: Mapping[str, Any] = field(default_factory=dict)
    """``BatchDeployment.settings`` in JSON form, ``environment_variables`` as their sorted names."""

    @classmethod
    def of(cls, deployment: BatchDeployment) -> DeploymentSection:
        """The section of ``deployment``."""
        settings = deployment.settings.model_dump(mode="json")
        settings["environment_variables"] = sorted(deployment.settings.environment_variables)
        return cls(
            deployment.name, deployment.model.uri, deployment.resources.instance_count, deployment.workers, settings
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "model": self.model,
            "instance_count": self.instance_count,
            "workers": self.workers,
            "settings": dict(self.settings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeploymentSection:
        """Read the section back."""
        return cls(
            text(data, "name"),
            text(data, "model"),
            integer(data, "instance_count"),
            integer(data, "workers"),
            dict(section(data, "settings") or {}),
        )


@dataclass(frozen=True)
class ModelSection:
    """The model version scored with (``ResolvedModel.to_dict``).

    A job that failed before resolving its model knows only the URI asked for: ``name`` is ``None``
    and only ``uri`` is written.
    """

    uri: str | None
    name: str | None = None
    version: str | None = None
    kind: str | None = None
    run_id: str | None = None
    requested: str | None = None
    signature: tuple[Mapping[str, Any], ...] | None = None
    """The input columns (``[{"name", "type", "required"}, ...]``); ``None`` for a custom model."""
    output_signature: tuple[Mapping[str, Any], ...] | None = None
    """The prediction columns the signature declares (``[{"name", "type"}, ...]``), if it declares them."""

    @property
    def output_types(self) -> dict[str, str]:
        """MLflow's type of each declared prediction column, by name."""
        return {str(c["name"]): str(c["type"]) for c in self.output_signature or ()}

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        if self.name is None:
            return {"uri": self.uri}
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "kind": self.kind,
            "run_id": self.run_id,
            "requested": self.requested,
            "signature": None if self.signature is None else [dict(c) for c in self.signature],
            **({} if self.output_signature is None else {"output_signature": [dict(c) for c in self.output_signature]}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSection:
        """Read the section back (a model version written as a number reads as its string)."""
        signature = data.get("signature")
        return cls(
            uri=text(data, "uri"),
            name=text(data, "name"),
            version=text(data, "version"),
            kind=text(data, "kind"),
            run_id=text(data, "run_id"),
            requested=text(data, "requested"),
            signature=tuple(entries(data, "signature")) if isinstance(signature, list) else None,
            output_signature=(
                tuple(entries(data, "output_signature")) if isinstance(data.get("output_signature"), list) else None
            ),
        )


@dataclass(frozen=True)
class RuntimeSection:
    """What the workers ran (``WorkerRuntime.to_dict``): which Python, which script, which environment."""

    kind: str | None
    python: str | None
    entry: str | None
    code_uri: str | None = None
    environment_key: str | None = None
    environment: Mapping[str, Any] | None = None
    """How the Python was chosen (``EnvironmentDecision.to_dict``), when it was decided."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "python": self.python,
            "entry": self.entry,
            "code_uri": self.code_uri,
            "environment_key": self.environment_key,
            "environment": None if self.environment is None else dict(self.environment),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuntimeSection:
        """Read the section back."""
        environment = section(data, "environment")
        return cls(
            text(data, "kind"),
            text(data, "python"),
            text(data, "entry"),
            text(data, "code_uri"),
            text(data, "environment_key"),
            None if environment is None else dict(environment),
        )


@dataclass(frozen=True)
class MiniBatchSection:
    """One mini-batch as the manifest records it: its files by URI and what they counted for."""

    index: int
    files: tuple[str, ...]
    rows: int
    failed_items: int
    worker: str | None
    attempts: int
    note: str | None
    node: str | None = None
    """Where the last attempt ran: ``local``, or the Ray node's id (``None`` in older manifests)."""

    @classmethod
    def of(cls, summary: MiniBatchSummary) -> MiniBatchSection:
        """The section of one finished mini-batch."""
        return cls.from_dict(summary.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "index": self.index,
            "files": list(self.files),
            "rows": self.rows,
            "failed_items": self.failed_items,
            "worker": self.worker,
            "attempts": self.attempts,
            "note": self.note,
            "node": self.node,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MiniBatchSection:
        """Read the section back."""
        return cls(
            index=integer(data, "index") or 0,
            files=texts(data, "files"),
            rows=integer(data, "rows") or 0,
            failed_items=integer(data, "failed_items") or 0,
            worker=text(data, "worker"),
            attempts=integer(data, "attempts") or 0,
            note=text(data, "note"),
            node=text(data, "node"),
        )


@dataclass(frozen=True)
class ReuseSection:
    """The earlier version whose rows were carried over, and how many files and rows (``scoring/reuse.py``)."""

    version_id: str
    files: int
    rows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"version_id": self.version_id, "files": self.files, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReuseSection:
        """Read the section back."""
        return cls(text(data, "version_id") or "", integer(data, "files") or 0, integer(data, "rows") or 0)


@dataclass(frozen=True)
class WorkersSection:
    """Where the job's workers ran (``WorkerHost.placement``): in-process, or a Ray pool, warm or started.

    ``nodes``: the node of each instance (``local`` in-process, Ray node ids otherwise);
    ``warm_workers``: processes lent already initialised, ``started_workers``: those whose ``init()`` ran.
    """

    host: str
    pool_id: str | None = None
    set_index: int | None = None
    reused: bool = False
    placement: str | None = None
    nodes: tuple[str, ...] = ()
    warm_workers: int = 0
    started_workers: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "host": self.host,
            "pool_id": self.pool_id,
            "set": self.set_index,
            "reused": self.reused,
            "placement": self.placement,
            "nodes": list(self.nodes),
            "warm_workers": self.warm_workers,
            "started_workers": self.started_workers,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkersSection:
        """Read the section back."""
        return cls(
            host=text(data, "host") or "in-process",
            pool_id=text(data, "pool_id"),
            set_index=integer(data, "set"),
            reused=data.get("reused") is True,
            placement=text(data, "placement"),
            nodes=tuple(texts(data, "nodes")),
            warm_workers=integer(data, "warm_workers") or 0,
            started_workers=integer(data, "started_workers") or 0,
        )
