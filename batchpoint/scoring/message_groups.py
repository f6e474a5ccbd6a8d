"""How many mini-batches one message to a built-in scorer's driver carries (``script_driver``'s grouped requests).

Pure. A message costs a round trip on the pipe and, in the built-in MLflow scorer, one ``predict``
call, whose fixed cost (MLflow's schema checks, the pipeline's per-call work) dominates on tiny
files. So a slot takes consecutive first attempts from the queue into one message, while the group
stays within ``GroupRules``: at most ``max_files`` files and ``max_bytes`` input bytes (large files
gain nothing), and at most a share of the job's mini-batches such that every slot still gets
``MESSAGES_PER_SLOT`` messages (grouping must not leave a worker idle at the end of a small job).

Each member stays a mini-batch of its own: its files, its result, its outcome and its record. A
retry, and every mini-batch of a group that failed as a whole, is sent on its own.
``mini_batch_size`` keeps meaning what a scoring script's ``run()`` receives: scripts are never grouped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from batchpoint.scoring.planning import MiniBatch

GROUP_MAX_FILES = 64
GROUP_MAX_BYTES = 8 << 20
MESSAGES_PER_SLOT = 4


@dataclass(frozen=True)
class GroupRules:
    """Bounds of one message's group of mini-batches."""

    max_mini_batches: int
    max_files: int = GROUP_MAX_FILES
    max_bytes: int = GROUP_MAX_BYTES

    @classmethod
    def for_job(cls, mini_batches: int, slots: int, *, builtin: bool) -> GroupRules:
        """The job's rules: one mini-batch per message for a scoring script, groups for the built-in scorer."""
        if not builtin:
            return cls(1)
        return cls(max(1, mini_batches // (max(slots, 1) * MESSAGES_PER_SLOT)))

    @property
    def groups(self) -> bool:
        """True when a message may carry more than one mini-batch."""
        return self.max_mini_batches > 1

    def reach(self, files_per_mini_batch: int) -> int:
        """Mini-batches a full group of such mini-batches holds: how far ahead inputs are worth staging."""
        return max(1, min(self.max_mini_batches, self.max_files // max(files_per_mini_batch, 1)))

    def admits(self, group: Sequence[MiniBatch], candidate: MiniBatch) -> bool:
        """True when ``candidate`` may join ``group`` (an empty group takes anything)."""
        if not group:
            return True
        if len(group) >= self.max_mini_batches:
            return False
        files = sum(len(m.files) for m in group) + len(candidate.files)
        size = sum(f.size for m in (*group, candidate) for f in m.files)
        return files <= self.max_files and size <= self.max_bytes
