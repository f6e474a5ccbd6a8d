"""Reading fields of a stored JSON document tolerantly: a missing or mistyped field reads as absent.

Manifests are read back from any version that ever wrote one (``manifest.py``); a field an older
version did not write, or wrote with another type, must not fail the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def section(data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """``data[name]`` when it is an object, else ``None``."""
    value = data.get(name)
    return value if isinstance(value, Mapping) else None


def entries(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The objects of the list ``data[name]``; ``[]`` when there is no such list."""
    value = data.get(name)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def text(data: Mapping[str, Any], name: str) -> str | None:
    """``data[name]`` as a string (numbers too: a model version may be written as one); ``None`` if absent."""
    value = data.get(name)
    if value is None or isinstance(value, bool | Mapping | list):
        return None
    return str(value)


def texts(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The strings of the list ``data[name]``; ``()`` when there is no such list."""
    value = data.get(name)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def integer(data: Mapping[str, Any], name: str) -> int | None:
    """``data[name]`` when it is an integer (not a boolean), else ``None``."""
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(data: Mapping[str, Any], name: str) -> float | None:
    """``data[name]`` when it is a number (not a boolean), kept as written (``3`` stays an ``int``)."""
    value = data.get(name)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def flag(data: Mapping[str, Any], name: str) -> bool | None:
    """``data[name]`` when it is a boolean, else ``None``."""
    value = data.get(name)
    return value if isinstance(value, bool) else None
