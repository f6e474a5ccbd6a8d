"""Python interpreters already on this machine, and the one that answers a requested version.

Nothing is ever downloaded: uv is asked with ``UV_PYTHON_DOWNLOADS=never`` and ``--only-installed``,
and pyenv's ``versions/`` directory is read directly (its shims fail for versions not made global).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from batchpoint.errors import SpecError

_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


@dataclass(frozen=True, order=True)
class Interpreter:
    """A base (non-venv) CPython on this machine."""

    version: tuple[int, ...]
    path: Path

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def _parse_version(text: str) -> tuple[int, ...] | None:
    return tuple(int(p) for p in text.split(".")) if _VERSION.match(text) else None


def _usable(path: Path) -> bool:
    # pyenv shims answer only for the global version; venv pythons would nest environments.
    return "shims" not in path.parts and not (path.parent.parent / "pyvenv.cfg").exists() and path.is_file()


def _from_pyenv() -> list[Interpreter]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found: list[Interpreter] = []
    for candidate in sorted(root.glob("*/bin/python3")) if root.is_dir() else []:
        version = _parse_version(candidate.parent.parent.name)
        if version is not None and len(version) == 3 and _usable(candidate):
            found.append(Interpreter(version, candidate))
    return found


def _from_uv(uv: list[str]) -> list[Interpreter]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
    command = [*uv, "python", "list", "--only-installed", "--output-format", "json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
        entries = json.loads(done.stdout) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return []  # uv cannot list: pyenv's versions are still searched
    found: list[Interpreter] = []
    for entry in entries:
        version = _parse_version(str(entry.get("version", "")))
        path = Path(str(entry.get("path", "")))
        if entry.get("implementation") == "cpython" and version is not None and _usable(path):
            found.append(Interpreter(version, path))
    return found


def installed_interpreters(uv: list[str]) -> list[Interpreter]:
    """Every base CPython uv or pyenv knows of, one per version, newest first."""
    by_version: dict[tuple[int, ...], Interpreter] = {}
    for interpreter in [*_from_uv(uv), *_from_pyenv()]:
        by_version.setdefault(interpreter.version, interpreter)
    return sorted(by_version.values(), reverse=True)


def find_interpreter(requested: str, uv: list[str]) -> Interpreter:
    """The newest installed interpreter whose version starts with ``requested`` (``3.10`` -> 3.10.13).

    Raises ``SpecError`` on ``environment.python_version`` listing the versions that are available.
    """
    wanted = _parse_version(requested)
    if wanted is None:
        raise SpecError("environment.python_version", f"got {requested!r}", "a version like `3.11` or `3.11.7`")
    available = installed_interpreters(uv)
    for interpreter in available:
        if interpreter.version[: len(wanted)] == wanted:
            return interpreter
    listed = ", ".join(i.version_text for i in available) or "none found"
    raise SpecError("environment.python_version", f"python {requested} is not on this machine", f"one of: {listed}")
