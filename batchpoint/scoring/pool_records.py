"""What a job's pool is told and what it answers: its settings, each failed attempt, each mini-batch's outcome.

Plain records shared by the coordinator (``script_pool.ScriptPool``), the merge (``pool_run``) and
the accounting (``mini_batch_record``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from batchpoint.scoring.failure_causes import FailureCause
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.script_process import OutputAction, ScriptAnswer

RESULT_SUFFIXES = {"rows": ".txt", "parquet": ".parquet", "arrow": ".arrow"}


def result_file(folder: Path, stem: str, *, builtin: bool, result_format: str) -> Path:
    """Where a driver writes one mini-batch's result: the built-in scorer writes Arrow, a script its format."""
    kind = "arrow" if builtin else result_format
    return folder / f"{stem}{RESULT_SUFFIXES[kind]}"


@dataclass(frozen=True)
class PoolSettings:
    """The deployment settings a pool obeys."""

    output_action: OutputAction
    result_format: str
    timeout: float
    max_retries: int
    init_timeout: float
    logging_level: str


@dataclass(frozen=True)
class Attempt:
    """One failed attempt at a mini-batch: where, what, and the traceback or the worker's log tail."""

    number: int
    worker: str
    kind: str
    """``run`` (run() raised), ``timeout``, ``crash`` or ``protocol``."""
    error: str
    detail: str

    def line(self, attempts: int) -> str:
        """``attempt 2/4 on worker-1: timeout: ...``."""
        return f"attempt {self.number}/{attempts} on {self.worker}: {self.kind}: {self.error}"


@dataclass(frozen=True)
class MiniBatchOutcome:
    """The final state of a mini-batch: the answer of its successful attempt, or why it has none."""

    mini_batch: MiniBatch
    staged: StagedMiniBatch | None
    answer: ScriptAnswer | None
    failures: tuple[Attempt, ...]
    worker: str | None
    not_run: str | None = None
    """Why no attempt was made or finished (the job stopped, no worker could start)."""
    not_run_cause: FailureCause = FailureCause.CONTENT
    """What ``not_run`` is attributed to: infrastructure when the store stopped the job."""
    node: str | None = None
    """Where the final attempt ran (``local`` or a Ray node id); ``None`` when none was made."""

    @property
    def ok(self) -> bool:
        """True when ``run()`` answered."""
        return self.answer is not None and self.answer.ok
