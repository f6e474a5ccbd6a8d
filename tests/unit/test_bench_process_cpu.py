"""The bench's CPU accounting of process trees (bench/process_memory.py): a child that ended counts in its parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.process_memory import CpuTimeline, process_label, tree_cpu_ticks

BURN = "import time\nwhile time.process_time() < 0.3: pass"


def test_a_reaped_childs_cpu_counts_in_the_tree_of_its_parent() -> None:
    # sh runs a child that burns 0.3 s of CPU and reaps it, says so, then waits on stdin.
    script = f'{sys.executable} -c "{BURN}"; echo done; read _'
    with subprocess.Popen(["sh", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as shell:
        try:
            assert shell.stdout is not None and shell.stdout.readline().strip() == "done"
            seconds = tree_cpu_ticks(shell.pid) / os.sysconf("SC_CLK_TCK")
            assert 0.25 <= seconds < 5, seconds
            assert process_label(shell.pid) == "sh"
        finally:
            shell.kill()


def test_a_timeline_gives_each_trees_seconds_between_two_moments() -> None:
    with subprocess.Popen(["sh", "-c", "read _"], stdin=subprocess.PIPE, text=True) as shell:
        try:
            with CpuTimeline(lambda: {"idle": shell.pid}, interval=0.05) as cpu:
                start, burnt = time.time(), time.process_time()
                while time.process_time() - burnt < 0.3:  # this process burns, the shell waits
                    pass
                end = time.time()
                time.sleep(0.1)  # a sample after the end
            seconds = cpu.seconds_between(start, end)
            assert seconds["idle"] < 0.05
            assert seconds["this process"] >= 0.2
        finally:
            shell.kill()
