"""Which Python answers a requested version: the policy, pure, over a list of installed interpreters.

In order (issue 10):

1. the exact version when the machine has it (``3.10.13`` → 3.10.13; a bare minor ``3.10`` is
   answered by its newest installed patch, with no warning: any patch of it is what was asked);
2. else a uv-managed download of exactly that version, when downloads are allowed
   (``Settings.python_downloads``, off by default: our machines are offline);
3. else the newest installed patch of the same minor version, with a warning (``3.8.5`` → 3.8.18);
4. a minor version the machine lacks altogether is a ``SpecError`` listing what it has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from batchpoint.errors import SpecError

FIELD = "environment.python_version"
VERSION_FORM = "a version like `3.11` or `3.11.7`"
_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


@dataclass(frozen=True, order=True)
class Interpreter:
    """A base (non-venv) CPython on this machine."""

    version: tuple[int, ...]
    path: Path

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


@dataclass(frozen=True)
class PythonChoice:
    """The answer to a requested version.

    ``interpreter`` is the installed one to use; ``None`` means "let uv download ``download``".
    ``warning`` says how the answer differs from the request (``None``: it is what was asked).
    """

    requested: str
    interpreter: Interpreter | None
    download: str | None = None
    warning: str | None = None

    @property
    def uv_python(self) -> str:
        """What to pass to ``uv venv --python``."""
        return str(self.interpreter.path) if self.interpreter is not None else str(self.download)


def parse_version(text: str) -> tuple[int, ...] | None:
    """``(3, 10, 5)`` for ``"3.10.5"``; ``None`` when ``text`` is not a dotted version of 1-3 numbers."""
    text = text.strip()
    return tuple(int(p) for p in text.split(".")) if _VERSION.match(text) else None


def choose_python(requested: str, available: Sequence[Interpreter], *, downloads: bool = False) -> PythonChoice:
    """The interpreter (or download) that answers ``requested`` under the policy of this module.

    ``available`` is every installed interpreter, any order. Raises ``SpecError`` on
    ``environment.python_version`` for a malformed request or one no installed minor version answers.
    """
    wanted = parse_version(requested)
    if wanted is None:
        raise SpecError(FIELD, f"got {requested!r}", VERSION_FORM)
    newest_first = sorted(available, reverse=True)
    matching = [i for i in newest_first if i.version[: len(wanted)] == wanted]
    if matching:
        return PythonChoice(requested, matching[0])  # exact, or the newest patch of a bare minor
    if downloads:
        return PythonChoice(requested, None, download=requested)
    if len(wanted) == 3:
        same_minor = [i for i in newest_first if i.version[:2] == wanted[:2]]
        if same_minor:
            used = same_minor[0]
            return PythonChoice(
                requested,
                used,
                warning=(
                    f"python {requested} is not on this machine and downloads are off "
                    f"(BATCHPOINT_PYTHON_DOWNLOADS); using {used.version_text}, its newest "
                    f"{wanted[0]}.{wanted[1]} patch"
                ),
            )
    listed = ", ".join(i.version_text for i in newest_first) or "none found"
    raise SpecError(
        FIELD,
        f"python {requested} is not on this machine (no {'.'.join(map(str, wanted[:2]))} at all)",
        f"one of: {listed} (or set BATCHPOINT_PYTHON_DOWNLOADS=true where uv can download interpreters)",
    )
