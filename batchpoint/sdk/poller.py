"""``LROPoller``: what Azure's ``begin_*`` calls return. Our operations finish before returning."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class LROPoller(Generic[T]):
    """A finished long-running operation: ``.result()`` gives its value at once."""

    def __init__(self, value: T) -> None:
        self._value = value

    def result(self, timeout: float | None = None) -> T:
        """The operation's value (``timeout`` accepted for Azure compatibility)."""
        return self._value

    def wait(self, timeout: float | None = None) -> None:
        """Nothing to wait for."""

    def done(self) -> bool:
        """Always ``True``."""
        return True

    def status(self) -> str:
        """Azure's status word for a finished operation."""
        return "Succeeded"
