"""Python interpreters already on this machine, and the one that answers a requested version.

Listing downloads nothing: uv is asked with ``UV_PYTHON_DOWNLOADS=never`` and ``--only-installed``,
and pyenv's ``versions/`` directory is read directly (its shims fail for versions not made global).
Which of them answers a request is ``python_choice.choose_python``'s policy.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from batchpoint.environments.python_choice import Interpreter, PythonChoice, choose_python, parse_version

__all__ = ["Interpreter", "PythonChoice", "choose_interpreter", "find_interpreter", "installed_interpreters"]


def _parse_version(text: str) -> tuple[int, ...] | None:
    return parse_version(text)


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


def choose_interpreter(requested: str, uv: list[str], *, downloads: bool = False) -> PythonChoice:
    """The installed interpreter (or uv download) answering ``requested``; see ``choose_python``."""
    return choose_python(requested, installed_interpreters(uv), downloads=downloads)


def find_interpreter(requested: str, uv: list[str]) -> Interpreter:
    """The installed interpreter answering ``requested`` with downloads off (``3.10`` -> 3.10.13).

    Raises ``SpecError`` on ``environment.python_version`` listing the versions that are available.
    """
    choice = choose_interpreter(requested, uv)
    assert choice.interpreter is not None  # downloads off: always an installed one
    return choice.interpreter
