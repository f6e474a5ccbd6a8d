"""The files that run inside a deployment's own environment import only the standard library, on Python 3.8 on.

``script_driver.py``, ``zygote.py`` and ``builtin/*.py`` run where batchpoint (and maybe pandas) is
not importable. Checked two ways: statically (no import of anything but the standard library and
each other at module level, syntax Python 3.8 parses) and by importing them with ``python -I -S``
(no site-packages at all) from every Python 3.8+ on this machine.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from batchpoint.environments.interpreters import installed_interpreters
from batchpoint.environments.uv_binary import find_uv
from batchpoint.scoring.runtime import BUILTIN_DIR

SCORING = BUILTIN_DIR.parent
STANDALONE = [SCORING / "script_driver.py", SCORING / "zygote.py", *sorted(BUILTIN_DIR.glob("*.py"))]
SIBLINGS = {path.stem for path in BUILTIN_DIR.glob("*.py")}
OLDEST = (3, 8)


def module_level_imports(tree: ast.Module) -> list[str]:
    """Top-level names imported outside functions (``if TYPE_CHECKING:`` blocks excepted)."""
    names: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                names.extend(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.append("." if node.level else (node.module or "").split(".")[0])
            elif isinstance(node, ast.If):
                if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return names


@pytest.mark.parametrize("path", STANDALONE, ids=lambda p: p.name)
def test_imports_only_the_standard_library_at_module_level(path: Path) -> None:
    tree = ast.parse(path.read_text(), feature_version=OLDEST)  # syntax Python 3.8 has
    foreign = [
        name
        for name in module_level_imports(tree)
        if name not in sys.stdlib_module_names and name not in {"__future__", "."} | SIBLINGS
    ]
    assert foreign == [], f"{path.name} imports {foreign} with the module"


def pythons() -> list[Path]:
    """Every Python from 3.8 on that this machine has, and the project's own."""
    found = [i.path for i in installed_interpreters(find_uv()) if i.version[:2] >= OLDEST]
    return [Path(sys.executable), *found]


@pytest.mark.parametrize("python", pythons(), ids=str)
def test_they_import_where_nothing_but_the_standard_library_is(python: Path) -> None:
    # -I -S: no site-packages (no batchpoint, pandas, mlflow), no working folder; the scorer's folder
    # first on sys.path as script_driver.py puts it; the driver and zygote by path, as they are run.
    code = f"""
import importlib.util, sys
sys.path.insert(0, {str(BUILTIN_DIR)!r})
for name in {sorted(SIBLINGS)!r}:
    __import__(name)
for path in {[str(SCORING / "script_driver.py"), str(SCORING / "zygote.py")]!r}:
    spec = importlib.util.spec_from_file_location("standalone", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
assert importlib.util.find_spec("batchpoint") is None
print(sorted(m for m in ("pandas", "numpy", "pyarrow", "mlflow") if m in sys.modules))
"""
    done = subprocess.run([str(python), "-I", "-S", "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
