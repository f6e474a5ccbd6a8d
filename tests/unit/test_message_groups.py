"""Grouping mini-batches into one message to the built-in scorer: the bounds, and splitting the answer back.

``batchpoint_run_group`` is driven with a fake model: each member must get exactly what
``batchpoint_run`` gives for it alone (its outcomes, its rows), whatever it was grouped with.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pytest

from batchpoint.scoring import script_driver
from batchpoint.scoring.builtin import mlflow_scorer
from batchpoint.scoring.builtin.input_tables import ColumnSpec, InputSignature
from batchpoint.scoring.message_groups import GROUP_MAX_BYTES, GroupRules
from batchpoint.scoring.planning import MiniBatch
from batchpoint.storage.port import ObjectInfo


def mini_batch(index: int, files: int, size: int = 100) -> MiniBatch:
    infos = tuple(ObjectInfo("b", f"k/{index}-{n}.csv", "e", size) for n in range(files))
    return MiniBatch(index, infos)


@pytest.mark.parametrize(
    ("mini_batches", "slots", "builtin", "expected"),
    [
        (500, 2, True, 62),  # every slot still gets 4 messages
        (10, 2, True, 1),  # a small job keeps one mini-batch per message, so both workers have work
        (16, 2, True, 2),
        (500, 2, False, 1),  # a scoring script's run() gets exactly one mini-batch
        (3, 0, True, 1),
    ],
)
def test_a_group_leaves_every_slot_enough_messages(mini_batches: int, slots: int, builtin: bool, expected: int) -> None:
    assert GroupRules.for_job(mini_batches, slots, builtin=builtin).max_mini_batches == expected


def test_a_group_stops_at_its_file_byte_and_mini_batch_bounds() -> None:
    rules = GroupRules(max_mini_batches=3, max_files=10, max_bytes=1000)
    assert rules.admits([], mini_batch(0, 50, size=10_000))  # an empty group takes anything
    assert rules.admits([mini_batch(0, 4)], mini_batch(1, 4))
    assert not rules.admits([mini_batch(0, 4), mini_batch(1, 4)], mini_batch(2, 4))  # 12 files
    assert not rules.admits([mini_batch(0, 1, size=600)], mini_batch(1, 1, size=600))  # 1,200 bytes
    assert not rules.admits([mini_batch(i, 1) for i in range(3)], mini_batch(3, 1))  # 4 mini-batches
    assert GroupRules(62).admits([mini_batch(0, 1, size=GROUP_MAX_BYTES - 1)], mini_batch(1, 0))


def test_staging_reaches_as_far_as_a_full_group() -> None:
    assert GroupRules(62).reach(4) == 16  # 64 files
    assert GroupRules(5).reach(4) == 5
    assert GroupRules(1).reach(100) == 1


SIG = InputSignature((ColumnSpec("x", "double"),))
FILES = {
    "a.csv": b"x\n1\n2\n",
    "b.csv": b"x\n3\n",
    "bad.csv": b"y\n1\n",  # no column x: fails alone
    "empty.csv": b"x\n",  # header only: no rows, no failure
    "c.csv": b"x\n4\n5\n6\n",
}


class FakeModel:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.calls.append(len(frame))
        return np.asarray(frame["x"], dtype=np.float64) * 10


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModel]:
    fake = FakeModel()
    before = mlflow_scorer._loaded
    mlflow_scorer._loaded = mlflow_scorer.LoadedModel(fake, SIG, tmp_path)
    yield fake
    mlflow_scorer._loaded = before


def local(tmp_path: Path, names: list[str]) -> list[str]:
    for name in names:
        (tmp_path / name).write_bytes(FILES[name])
    return [str(tmp_path / name) for name in names]


def read(path: str | None) -> list[dict[str, Any]] | None:
    if path is None:
        return None
    with pa_ipc.open_stream(path) as reader:
        table: pa.Table = reader.read_all()
    return table.to_pylist()


def test_a_group_answers_each_member_as_if_it_had_been_sent_alone(model: FakeModel, tmp_path: Path) -> None:
    members = [["a.csv", "bad.csv"], ["empty.csv"], ["b.csv", "c.csv"]]
    alone = []
    for n, names in enumerate(members):
        answer = mlflow_scorer.batchpoint_run(local(tmp_path, names), str(tmp_path / f"alone-{n}.arrow"))
        alone.append((answer, read(answer["result_path"])))
    model.calls.clear()

    group = [(local(tmp_path, names), str(tmp_path / f"group-{n}.arrow")) for n, names in enumerate(members)]
    answers = mlflow_scorer.batchpoint_run_group(group)

    assert len(model.calls) == 1  # one predict for the four files that cast (bad.csv fails alone)
    grouped = [(a, read(a["result_path"])) for a in answers]
    for (solo, solo_rows), (answer, rows) in zip(alone, grouped, strict=True):
        assert answer["files"] == solo["files"]
        assert answer["items"] == solo["items"]
        assert rows == solo_rows
        assert (answer["result_path"] is None) == (solo["result_path"] is None)
    assert grouped[1] == ({"items": 1, "files": grouped[1][0]["files"], "format": "arrow", "result_path": None}, None)
    assert grouped[2][1] == [
        {"prediction": v, "file": f} for v, f in [(30.0, "b.csv"), (40.0, "c.csv"), (50.0, "c.csv"), (60.0, "c.csv")]
    ]


def test_the_driver_answers_a_group_member_by_member(model: FakeModel, tmp_path: Path) -> None:
    request = {
        "mini_batch": 7,
        "group": [
            {"mini_batch": 7, "files": local(tmp_path, ["a.csv"]), "result_path": str(tmp_path / "7.arrow")},
            {"mini_batch": 8, "files": local(tmp_path, ["b.csv"]), "result_path": str(tmp_path / "8.arrow")},
        ],
        "output": "append_row",
    }
    answer = script_driver.run_group(mlflow_scorer, request)  # type: ignore[arg-type]
    assert answer["ok"] and answer["mini_batch"] == 7
    assert [(a["mini_batch"], a["items"], a["result_path"]) for a in answer["answers"]] == [
        (7, 1, str(tmp_path / "7.arrow")),
        (8, 1, str(tmp_path / "8.arrow")),
    ]


def test_a_script_without_the_group_hook_fails_a_grouped_request_whole() -> None:
    script = types.ModuleType("score")
    script.run = lambda files: files  # type: ignore[attr-defined]
    answer = script_driver.run_group(script, {"mini_batch": 3, "group": [], "output": "append_row"})
    assert not answer["ok"] and answer["mini_batch"] == 3
    assert "batchpoint_run_group" in answer["error"]
