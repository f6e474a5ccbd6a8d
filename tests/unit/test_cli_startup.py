"""The CLI starts without the demo's libraries: a user's script runs `batchpoint` once per line."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

# What only `batchpoint demo` needs (its forecaster and sales history); about 4 s to import.
DEMO_ONLY = ("sklearn", "pandas")


def test_importing_the_cli_leaves_the_demo_libraries_unloaded() -> None:
    # A fresh interpreter: this test session has imported pandas already.
    probe = f"import sys, batchpoint.cli.main; print(' '.join(m for m in {DEMO_ONLY!r} if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert found.stdout.strip() == ""


def test_demo_help_still_lists_its_options() -> None:
    from batchpoint.cli.main import main

    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0, result.output
    assert "--products" in result.output
