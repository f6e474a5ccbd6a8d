"""Process trees and their memory, read from ``/proc`` (Linux): RSS, PSS, peak RSS and CPU ticks,
and a timeline of CPU seconds per tree (``CpuTimeline``).

Shared by the benches that report memory (``worker_startup.py``, ``compare.py``). RSS counts pages
shared by forked processes once per process; PSS splits them fairly.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path


def children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree(root: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """``root`` and its descendants, by parent pid (``children``: a ``children_by_parent()`` already read)."""
    children = children_by_parent() if children is None else children
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """``(RSS, PSS)`` of one process in KiB (0, 0 when it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in lines[1:] if line.split()[-1] == "kB"}
    return values.get("Rss", 0), values.get("Pss", 0)


def tree_memory_kib(roots: list[int]) -> tuple[int, int, int]:
    """``(RSS, PSS, processes)`` of the trees under ``roots`` now, each process counted once."""
    pids = {p for root in roots for p in tree(root)}
    sizes = [memory_kib(p) for p in pids]
    return sum(s[0] for s in sizes), sum(s[1] for s in sizes), len(pids)


def high_water_kib(pid: int) -> int:
    """The process's peak RSS so far (``VmHWM``), in KiB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("VmHWM:")), 0)


def cpu_ticks(pid: int, *, reaped: bool = False) -> int:
    """The process's utime + stime so far; with ``reaped``, also its reaped children's (cutime + cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(f) for f in fields[11 : 15 if reaped else 13])


class PeakSampler:
    """Samples the summed RSS and PSS of some process trees until stopped; keeps the peaks."""

    def __init__(self, roots: Callable[[], list[int]], interval: float = 0.02) -> None:
        self._roots = roots
        self._interval = interval
        self._stop = threading.Event()
        self.peak_rss = self.peak_pss = self.peak_processes = 0
        self._hwm: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def hwm_sum(self) -> int:
        """Each process's own peak RSS (``VmHWM``), summed: an upper bound of the tree's peak."""
        return sum(self._hwm.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = {p for root in self._roots() for p in tree(root)}
            sizes = [memory_kib(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self.peak_processes = max(self.peak_processes, len(pids))
            for pid in pids:
                self._hwm[pid] = max(self._hwm.get(pid, 0), high_water_kib(pid))
            self._stop.wait(self._interval)


def tree_cpu_ticks(root: int, children: dict[int, list[int]] | None = None) -> int:
    """CPU ticks of a process tree so far: each live process's, plus those of the children it
    reaped, so a run process that ended still counts in its parent."""
    return sum(cpu_ticks(pid, reaped=True) for pid in tree(root, children))


def process_label(pid: int) -> str:
    """A short name for a process from its command line: the module run with ``-m``, else the program."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return str(pid)
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1].rsplit(".", 1)[-1]
    names = [Path(a).name for a in argv if a and not a.startswith("-")]
    scripts = [n for n in names[1:] if not n.startswith("python")] if names and names[0].startswith("python") else []
    return (scripts or names or [str(pid)])[0]


class CpuTimeline:
    """CPU ticks of labelled process trees, sampled every ``interval`` s until stopped, with wall times."""

    def __init__(self, roots: Callable[[], dict[str, int]], interval: float = 0.25) -> None:
        self._roots = roots
        self._interval = interval
        self._stop = threading.Event()
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuTimeline:
        self._sample()  # now, not when the thread first runs: a busy caller can hold the GIL a while
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        children = children_by_parent()
        ticks = {k: tree_cpu_ticks(p, children) for k, p in self._roots().items()}
        own = os.times()  # this process alone: its tree holds the stack it started
        ticks["this process"] = round((own.user + own.system) * os.sysconf("SC_CLK_TCK"))
        self.samples.append((time.time(), ticks))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def seconds_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds of each tree from the last sample at or before ``start`` to the first at or after ``end``."""
        if not self.samples:
            return {}
        before = next((s for _, s in reversed(self.samples) if _ <= start), self.samples[0][1])
        after = next((s for t, s in self.samples if t >= end), self.samples[-1][1])
        hz = os.sysconf("SC_CLK_TCK")
        return {k: round((after.get(k, 0) - before.get(k, 0)) / hz, 2) for k in after}
