"""Where the ``uv`` executable is: on PATH, next to this interpreter, or as ``python -m uv``."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from batchpoint.errors import SpecError


def find_uv(explicit: str | None = None) -> list[str]:
    """The command prefix that runs uv (e.g. ``["/usr/bin/uv"]`` or ``[python, "-m", "uv"]``)."""
    if explicit is not None:
        found = shutil.which(explicit)
        if found is None:
            raise SpecError("uv", f"{explicit!r} is not an executable", "a path to the uv binary or a name on PATH")
        return [found]
    on_path = shutil.which("uv")
    if on_path is not None:
        return [on_path]
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file():
        return [str(beside)]
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    raise SpecError(
        "uv",
        "no uv binary found (not on PATH, not next to the interpreter, no `uv` Python package)",
        "uv installed in the project environment (`uv add uv`) or on PATH",
    )
