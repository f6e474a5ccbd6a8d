"""What every SDK entity shares: a spec-shaped dict form and a readable ``repr``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def without_none(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` minus keys whose value is ``None`` (the server's default applies to those)."""
    return {k: v for k, v in data.items() if v is not None}


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

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable, like a dict
