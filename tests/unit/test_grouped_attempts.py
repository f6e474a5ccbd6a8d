"""``ScriptPool`` with grouped messages, on a fake host: a group that fails as a whole charges nobody.

Every member goes back to the queue to be sent alone; there the attempt policy applies as to any
mini-batch, so only the culprit fails, and its group-mates succeed on their first counted attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from batchpoint.errors import WorkerCrashed
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import PoolSettings
from batchpoint.scoring.script_answers import FileOutcome, ScriptAnswer
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.scoring.worker_host import RunRequest, Say, Starting
from batchpoint.storage.port import ObjectInfo

POISON = "poison.csv"


class FakeWorker:
    """Answers every file with one row; a mini-batch holding ``POISON`` crashes the process."""

    def __init__(self, name: str, sent: list[list[int]]) -> None:
        self.name, self.node, self.pid, self.init_seconds, self.warm = name, "local", 1, 0.0, False
        self._sent = sent

    def stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        return StagedMiniBatch(mini_batch, Path("in"), {f.key: Path("in", f.key) for f in mini_batch.files})

    def _answer(self, staged: StagedMiniBatch) -> ScriptAnswer:
        index = staged.mini_batch.index
        if any(p.name == POISON for p in staged.paths):
            raise WorkerCrashed(index, -9)
        files = tuple(FileOutcome(str(p), 1, None) for p in staged.paths)
        return ScriptAnswer(index, True, len(files), None, None, None, 0.0, "arrow", files)

    def run(self, staged: StagedMiniBatch, request: RunRequest) -> ScriptAnswer:
        self._sent.append([staged.mini_batch.index])
        return self._answer(staged)

    def run_group(self, staged: Sequence[StagedMiniBatch], requests: Sequence[RunRequest]) -> list[ScriptAnswer]:
        self._sent.append([s.mini_batch.index for s in staged])
        return [self._answer(s) for s in staged]

    def kill(self) -> None: ...
    def discard(self) -> None: ...
    def release(self) -> None: ...


class FakeHost:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir, self.placement, self.sent = log_dir, {"host": "fake"}, []
        self.workers_outlive_job = False

    def start_worker(self, slot: int, name: str, init_timeout: float, say: Say, starting: Starting) -> FakeWorker:
        worker = FakeWorker(name, self.sent)
        starting(worker)
        return worker

    def prefetch(self, mini_batch: MiniBatch) -> None: ...
    def release_inputs(self, mini_batch: MiniBatch) -> None: ...
    def close(self, output_dir: Path) -> None: ...


def test_a_crashed_group_sends_each_member_alone_and_only_the_culprit_fails(tmp_path: Path) -> None:
    names = [POISON if i == 5 else f"part-{i:02d}.csv" for i in range(16)]
    mini_batches = [MiniBatch(i, (ObjectInfo("b", name, "e", 10),)) for i, name in enumerate(names)]
    host = FakeHost(tmp_path / "logs")
    settings = PoolSettings("append_row", "rows", timeout=5.0, max_retries=0, init_timeout=5.0, logging_level="info")
    pool = ScriptPool(host, 1, settings, builtin=True, work_dir=tmp_path, log=logging.getLogger("test"))

    outcomes = {o.mini_batch.index: o for o in pool.run(mini_batches)}

    assert host.sent[0] == [0, 1, 2, 3]  # 16 mini-batches, 1 slot: 4 per message
    assert [4, 5, 6, 7] in host.sent  # the group the culprit crashed ...
    assert [s for s in host.sent if len(s) == 1] == [[4], [5], [6], [7]]  # ... each member then alone
    assert sorted(outcomes) == list(range(16))
    assert not outcomes[5].ok and [a.kind for a in outcomes[5].failures] == ["crash"]  # max_retries 0: one try
    assert all(outcomes[i].ok and not outcomes[i].failures for i in range(16) if i != 5)
