"""What every SDK entity shares: a spec-shaped dict form and a readable ``repr``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from batchpoint.errors import SpecError

E = TypeVar("E", bound="Entity")


def without_none(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` minus keys whose value is ``None`` (the server's default applies to those)."""
    return {k: v for k, v in data.items() if v is not None}


def as_entity(value: E | Mapping[str, Any], kind: type[E], field: str) -> E:
    """``value`` as a ``kind``: Azure notebooks assign plain dicts (``endpoint.defaults = {}``) where
    an entity is expected, and ``azure.ai.ml`` takes them; so does this. Raises ``SpecError`` for a
    key ``kind`` does not have."""
    if isinstance(value, kind):
        return value
    if isinstance(value, Mapping):
        try:
            return kind(**dict(value))
        except TypeError as exc:
            known = [p for p in inspect.signature(kind).parameters if p not in ("args", "kwargs")]
            unknown = sorted(set(value) - set(known))
            raise SpecError(
                field, f"has unknown key(s) {unknown}", f"a {kind.__name__} or a dict of {', '.join(known)}"
            ) from exc
    raise SpecError(field, f"got a {type(value).__name__}", f"a {kind.__name__} or a dict of its fields")


def parse_time(value: Any) -> datetime | None:
    """An ISO timestamp from the API as ``datetime``; ``None`` stays ``None``."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class Entity:
    """Base of the mutable, keyword-built entities (Azure's style): ``_to_dict`` is the spec JSON."""

    def _to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        try:
            fields = self._to_dict()
        except Exception:
            fields = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._to_dict() == other._to_dict()

    # Item access as well as attributes: Azure code that built a dict and code that reads the entity
    # back (``endpoint.defaults["deployment_name"]``) both work on the same object.
    def __getitem__(self, key: str) -> Any:
        if key.startswith("_") or key not in vars(self):
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key.startswith("_") or key not in vars(self):
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        setattr(self, key, value)

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable, like a dict
