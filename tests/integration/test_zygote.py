"""Drivers forked by the zygote behave like drivers started on their own: answers, crashes, kills."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchpoint.errors import MiniBatchTimeout, WorkerCrashed
from batchpoint.scoring.script_process import ScriptProcess, script_environment
from batchpoint.scoring.zygote_client import Zygote

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SCRIPT = """
import os, sys, time

def init():
    global pid
    pid = os.getpid()
    print("init in", pid, os.environ.get("GREETING"), sys.argv[-1])

def run(mini_batch):
    if any("crash" in p for p in mini_batch):
        os._exit(3)
    if any("hang" in p for p in mini_batch):
        time.sleep(60)
    return [f"{os.path.basename(p)} {pid}" for p in mini_batch]
"""


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """One zygote for the module: it imports MLflow once, which is its point."""
    log = tmp_path_factory.mktemp("zygote") / "zygote.txt"
    started = Zygote.start(Path(sys.executable), dict(os.environ), log)
    try:
        yield started
    finally:
        started.close()


def driver(tmp_path: Path, zygote: Zygote, name: str) -> ScriptProcess:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "score.py").write_text(SCRIPT)
    env = script_environment(tmp_path / "model", tmp_path / "out", {"GREETING": "hello"})
    process = ScriptProcess(
        Path(sys.executable), code, "score.py", env, "debug", tmp_path / "logs", name=name, zygote=zygote
    )
    process.start(30)
    return process


def test_a_forked_driver_scores_and_exits_cleanly(tmp_path: Path, zygote: Zygote) -> None:
    process = driver(tmp_path, zygote, "w0")
    answer = process.run_mini_batch(0, ["/data/a.csv", "/data/b.csv"], "append_row", tmp_path / "r.txt", 10)
    assert answer.ok
    assert answer.items == 2
    rows = (tmp_path / "r.txt").read_text().splitlines()
    assert [r.split()[0] for r in rows] == ["a.csv", "b.csv"]
    assert {r.split()[1] for r in rows} == {str(process.pid)}
    assert process.close() == 0
    log = process.log_path.read_text()
    assert f"init in {process.pid} hello debug" in log


def test_a_crash_and_a_hang_are_seen_through_the_zygote(tmp_path: Path, zygote: Zygote) -> None:
    crashing = driver(tmp_path, zygote, "w1")
    with pytest.raises(WorkerCrashed, match="exited with code 3"):
        crashing.run_mini_batch(1, ["/data/crash.csv"], "append_row", tmp_path / "c.txt", 10)
    crashing.close(grace=1)

    hanging = driver(tmp_path, zygote, "w2")
    started = time.monotonic()
    with pytest.raises(MiniBatchTimeout):
        hanging.run_mini_batch(2, ["/data/hang.csv"], "append_row", tmp_path / "h.txt", 1)
    assert hanging.returncode is not None and hanging.returncode < 0  # killed by SIGKILL
    assert time.monotonic() - started < 10
    hanging.close(grace=1)
