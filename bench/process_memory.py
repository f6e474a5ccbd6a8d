"""Process trees and their memory, read from ``/proc`` (Linux): RSS, PSS, peak RSS and CPU ticks.

Shared by the benches that report memory (``worker_startup.py``, ``compare.py``). RSS counts pages
shared by forked processes once per process; PSS splits them fairly.
"""

from __future__ import annotations

import threading
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


def tree(root: int) -> list[int]:
    """``root`` and its descendants, by parent pid."""
    children = children_by_parent()
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


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


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
