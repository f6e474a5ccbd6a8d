"""SIGTERM stops `batchpoint up` and `batchpoint demo` as Ctrl-C does, so their stacks stop cleanly."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import os, signal, time
from batchpoint.cli.stop_signals import StopRequestedError, stop_on_sigterm
stop_on_sigterm()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
except (KeyboardInterrupt, StopRequestedError):
    print("stopping the stack")
"""


def test_sigterm_raises_where_the_command_stops_its_stack() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "stopping the stack"), done.stderr
