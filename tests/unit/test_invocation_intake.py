"""Decoding an ``invocations`` message: the job it carries, or a reason fit for the dead-letter topic."""

from __future__ import annotations

import json

import pytest

from batchpoint.errors import EventError
from kafka_edge.invocation_json import decode

GOOD = {
    "job_name": "batchjob-0123456789ab",
    "endpoint_name": "sales",
    "deployment_name": "blue",
    "inputs": {"input": {"type": "uri_folder", "path": "s3://landing/in"}},
    "output_path": "s3://batchpoint/sales/jobs/batchjob-0123456789ab",
    "overrides": {"mini_batch_size": 3},
}


def test_a_good_message_decodes_with_its_overrides() -> None:
    message = decode(json.dumps(GOOD).encode(), b"batchjob-0123456789ab")
    assert message.job_name == "batchjob-0123456789ab"
    assert message.output_path == "s3://batchpoint/sales/jobs/batchjob-0123456789ab/"
    assert message.overrides.mini_batch_size == 3
    assert decode(json.dumps(GOOD).encode()).inputs["input"].path == "s3://landing/in"


@pytest.mark.parametrize(
    ("raw", "key", "reason"),
    [
        (b"not json", None, "not JSON"),
        (b"\xff\xfe", None, "not JSON"),
        (b"[1, 2]", None, "must be a JSON object"),
        (json.dumps({**GOOD, "inputs": {}}).encode(), None, "inputs"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "job_name"}).encode(), None, "job_name"),
        (json.dumps({**GOOD, "surprise": 1}).encode(), None, "surprise"),
        (json.dumps({**GOOD, "overrides": {"mini_batch_size": 0}}).encode(), None, "overrides.mini_batch_size"),
        (json.dumps(GOOD).encode(), b"batchjob-other", "not the job name"),
    ],
)
def test_what_cannot_be_run_says_why(raw: bytes, key: bytes | None, reason: str) -> None:
    with pytest.raises(EventError, match=reason):
        decode(raw, key)
