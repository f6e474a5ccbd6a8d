"""The built-in scorer's grouped messages (``scoring/message_groups.py``) change nothing a user can see.

The same inputs (good files and each kind of bad one) scored with one mini-batch per message and
with several per message give the same predictions, the same per-file lineage and the same
per-file and per-mini-batch records; only the number of messages differs.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batchpoint.config import Settings
from batchpoint.scoring import message_groups
from batchpoint.scoring.job import JobResult
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.script_process import GroupMember, ScriptProcess
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from tests.integration.test_scoring_job import (  # noqa: F401 -- fixtures of that module
    _job,
    _predictions,
    assert_same_predictions,
    features,
    put_inputs,
    registered,
    settings,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
]


def lineage(store: S3Store, result: JobResult) -> pa.Table:
    uri = result.manifest.lineage_uri
    assert uri is not None
    return pq.read_table(io.BytesIO(store.get_bytes(*uri.removeprefix("s3://").split("/", 1))))


def records(result: JobResult) -> tuple[list[Any], list[Any]]:
    files = [(f.key, f.rows, f.error, f.cause) for f in result.files]
    mini_batches = [
        (m.index, m.files, m.rows, m.failed_items, m.attempts, m.note) for m in result.manifest.mini_batches
    ]
    return files, mini_batches


def test_grouped_messages_give_the_same_predictions_lineage_and_records(
    settings: Settings,  # noqa: F811
    registered: str,  # noqa: F811
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    put_inputs(store, unique_name)  # five good files and three bad ones
    for n in range(8):
        data = features(3 + n, seed=200 + n).to_csv(index=False).encode()
        store.put_bytes(unique_name, f"sales/2026-11/part-1{n:02d}.csv", data)
    inputs = list(store.list(unique_name, "sales/2026-11/"))  # 16 files, 8 mini-batches of 2

    groups: list[list[int]] = []
    run_group = ScriptProcess.run_group

    def counted(self: ScriptProcess, members: Sequence[GroupMember], *args: Any, **kwargs: Any) -> list[ScriptAnswer]:
        groups.append([m.index for m in members])
        return run_group(self, members, *args, **kwargs)

    monkeypatch.setattr(ScriptProcess, "run_group", counted)
    monkeypatch.setattr(message_groups, "MESSAGES_PER_SLOT", 10**6)  # one mini-batch per message
    alone = _job(settings, store, registered, inputs, "job-alone", promote=False)
    assert groups == []
    monkeypatch.setattr(message_groups, "MESSAGES_PER_SLOT", 1)  # up to 4 mini-batches per message
    grouped = _job(settings, store, registered, inputs, "job-grouped", promote=False)

    assert groups, "no message carried more than one mini-batch"
    assert max(len(g) for g in groups) > 1
    assert sorted(i for g in groups for i in g) == sorted(set(i for g in groups for i in g))
    assert grouped.status == alone.status == "Completed"
    assert grouped.failed_items == alone.failed_items == 3
    assert grouped.rows == alone.rows
    assert grouped.mini_batches == alone.mini_batches == 8
    assert records(grouped) == records(alone)
    assert_same_predictions(_predictions(store, grouped), _predictions(store, alone))
    got, want = lineage(store, grouped), lineage(store, alone)
    for column in ("file", "input_uri", "row_index"):
        assert got[column].to_pylist() == want[column].to_pylist()
