"""The zygote preloads what the environment has; only an installed module that fails is worth a line."""

from pathlib import Path

import pytest

from batchpoint.scoring.zygote import preload


def test_modules_the_environment_lacks_are_left_out_quietly() -> None:
    assert preload(("json", "no_such_package_bp", "no_such_package_bp.io")) == []


def test_an_installed_module_missing_its_own_dependency_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_bp_pkg").mkdir()
    (tmp_path / "broken_bp_pkg" / "__init__.py").write_text("import no_such_dependency_bp\n")
    (tmp_path / "raising_bp_mod.py").write_text("raise RuntimeError('bad install')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    skipped = preload(("broken_bp_pkg", "raising_bp_mod"))
    assert skipped == [
        "broken_bp_pkg (ModuleNotFoundError: No module named 'no_such_dependency_bp')",
        "raising_bp_mod (RuntimeError: bad install)",
    ]
