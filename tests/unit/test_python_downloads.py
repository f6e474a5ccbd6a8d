"""The builder asks uv for a download only when ``python_downloads`` allows it (a stand-in uv records it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchpoint.environments.builder import MARKER, EnvironmentBuilder
from batchpoint.errors import SpecError
from batchpoint.specs.environment import EnvironmentSpec

# Stands in for uv: records each call with its UV_PYTHON_DOWNLOADS, lists no interpreters, and
# "creates" a venv whose pyvenv.cfg says 3.8.5, as uv's would after downloading it.
FAKE_UV = """#!/bin/sh
echo "$UV_PYTHON_DOWNLOADS $*" >> "$FAKE_UV_LOG"
case "$1" in
  python) echo "[]" ;;
  venv) for last in "$@"; do :; done
        mkdir -p "$last/bin"; printf 'home = /x\\nversion_info = 3.8.5.final.0\\n' > "$last/pyvenv.cfg"
        touch "$last/bin/python" ;;
esac
"""
SPEC = EnvironmentSpec.parse({"name": "old", "python_version": "3.8.5"})


@pytest.fixture
def fake_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    uv = tmp_path / "uv"
    uv.write_text(FAKE_UV)
    uv.chmod(0o755)
    log = tmp_path / "uv.log"
    monkeypatch.setenv("FAKE_UV_LOG", str(log))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))  # no interpreters at all
    return str(uv), log


def test_a_missing_version_is_downloaded_when_allowed(tmp_path: Path, fake_uv: tuple[str, Path]) -> None:
    uv, log = fake_uv
    built = EnvironmentBuilder(tmp_path / "cache", uv=uv, python_downloads=True).ensure(SPEC)

    calls = log.read_text().splitlines()
    assert calls[0].startswith("never python list --only-installed")  # listing never downloads
    assert calls[1].startswith("automatic venv --no-project --relocatable --python 3.8.5 ")
    assert (built.python_version, built.python_requested, built.python_warning) == ("3.8.5", "3.8.5", None)
    assert json.loads((built.root / MARKER).read_text())["python"] == "3.8.5"


def test_downloads_are_off_by_default(tmp_path: Path, fake_uv: tuple[str, Path]) -> None:
    uv, log = fake_uv
    with pytest.raises(SpecError, match=r"python 3.8.5 is not on this machine .*one of: none found"):
        EnvironmentBuilder(tmp_path / "cache", uv=uv).ensure(SPEC)

    assert all(line.startswith("never ") for line in log.read_text().splitlines())
