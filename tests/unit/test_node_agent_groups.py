"""``NodeAgent.run_group``: a grouped message reaches the node's driver with the group's own timeout.

The coordinator's ``RayWorker`` sends the group's timeout (the sum of its members'), and the node's
``LocalWorker`` sums its members' requests again, so the agent must not give each member the whole.
No Ray: the agent is built without its node id, over a real ``LocalWorker`` on a fake process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from batchpoint.ray_compute.node_agent import NodeAgent
from batchpoint.scoring.input_staging import InputStager, StagedMiniBatch
from batchpoint.scoring.local_host import LocalWorker
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.script_process import GroupMember, ScriptProcess
from batchpoint.storage.port import ObjectInfo


class FakeProcess:
    """Records the timeout of each grouped message; answers every member with one row."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def run_group(self, members: Sequence[GroupMember], output: Any, timeout: float) -> list[ScriptAnswer]:
        self.timeouts.append(timeout)
        return [ScriptAnswer(m.index, True, 1, None, None, None, 0.0) for m in members]


def agent_over(process: FakeProcess, work: Path) -> NodeAgent:
    agent = NodeAgent.__new__(NodeAgent)  # __init__ asks Ray for its node id
    agent._lock = threading.Lock()
    agent._work = work
    agent._bundle = cast(Any, type("Bundle", (), {"builtin": True}))
    agent._workers = {0: LocalWorker(cast(ScriptProcess, process), cast(InputStager, None))}
    return agent


def staged(index: int) -> StagedMiniBatch:
    info = ObjectInfo("in", f"part-{index}.csv", "etag", 10)
    return StagedMiniBatch(MiniBatch(index, (info,)), Path("/nowhere"), {info.key: Path(f"/nowhere/{index}.csv")})


def test_a_group_of_three_runs_within_the_groups_timeout(tmp_path: Path) -> None:
    process = FakeProcess()
    agent = agent_over(process, tmp_path)

    answers = agent.run_group(0, [staged(i) for i in range(3)], "append_row", 30.0)

    assert [a.answer.mini_batch for a in answers if a.answer is not None] == [0, 1, 2]
    assert process.timeouts == [30.0]  # not 3 × 30
