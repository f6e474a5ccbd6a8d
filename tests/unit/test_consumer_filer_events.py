"""Filer change events (``weed filer.meta.tail`` output) -> ObjectCreated, and the checkpoint file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from batchpoint.errors import EventError
from kafka_edge.checkpoint import Checkpoint
from kafka_edge.filer_events import JsonObjectStream, changes, entry_etag, iso_time

TS = 1795491173082308778


def _entry(
    name: str, etag: str | None = "e5ebd4c02cefbe7955977c67ada242b7", directory: bool = False, **extended: str
) -> dict[str, Any]:
    attrs = dict(extended)
    if etag is not None:
        attrs["Seaweed-X-Amz-ETag"] = base64.b64encode(etag.encode()).decode()
    return {
        "name": name,
        "isDirectory": directory,
        "chunks": [],
        "attributes": {"fileSize": "8", "mtime": "1795491173"},
        "extended": attrs,
    }


def _doc(
    directory: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None, new_parent: str = ""
) -> dict[str, Any]:
    return {
        "directory": directory,
        "eventNotification": {"oldEntry": old, "newEntry": new, "newParentPath": new_parent or directory},
        "tsNs": str(TS),
        "events": [],
    }


def test_put_becomes_object_created_with_s3_etag() -> None:
    [change] = changes(_doc("/buckets/landing/sales/2026-11", _entry("part 007.csv")), "landing")
    assert change.ts_ns == TS
    event = change.event
    assert event is not None
    assert (event.bucket, event.key, event.etag, event.size) == (
        "landing",
        "sales/2026-11/part 007.csv",
        "e5ebd4c02cefbe7955977c67ada242b7",
        8,
    )
    assert event.event_name == "s3:ObjectCreated:Put"
    assert event.sequencer == f"{TS:X}"
    assert event.event_time == iso_time(TS) == "2026-11-24T03:32:53.082Z"


def test_overwrite_with_new_content_is_an_event_and_metadata_update_is_not() -> None:
    overwrite = _doc("/buckets/landing", _entry("a.csv", "new"), old=_entry("a.csv", "old"))
    touch = _doc("/buckets/landing", _entry("a.csv", "same"), old=_entry("a.csv", "same"))
    assert changes(overwrite, "landing")[0].event is not None
    assert changes(touch, "landing")[0].event is None


def test_multipart_completion_is_named_like_s3() -> None:
    doc = _doc("/buckets/landing/mp", _entry("big.bin", "953b-2", **{"X-Seaweedfs-Multipart-Part-Boundaries": "W10="}))
    event = changes(doc, "landing")[0].event
    assert event is not None
    assert event.event_name == "s3:ObjectCreated:CompleteMultipartUpload"


def test_rename_is_an_object_at_the_new_path() -> None:
    doc = _doc("/buckets/landing/tmp", _entry("a.csv"), old=_entry("a.csv"), new_parent="/buckets/landing/in")
    event = changes(doc, "landing")[0].event
    assert event is not None
    assert event.key == "in/a.csv"


@pytest.mark.parametrize(
    "doc",
    [
        _doc("/buckets/landing", None, old=_entry("gone.csv")),  # deletion
        _doc("/buckets/landing", _entry("sales", directory=True)),  # folder
        _doc("/buckets/landing/.uploads/1b59_18f3", _entry("0001_bd33.part")),  # multipart part
        _doc("/buckets/landing/a.csv.versions", _entry("v_0123")),  # version bookkeeping
        _doc("/buckets/.system/owners", _entry("landing")),  # gateway's own state
        _doc("/buckets/other", _entry("a.csv")),  # another bucket
    ],
)
def test_internal_paths_folders_and_deletions_are_not_events(doc: dict[str, Any]) -> None:
    [change] = changes(doc, "landing")
    assert change.event is None
    assert change.ts_ns == TS  # still advances the checkpoint


def test_entry_without_s3_etag_leaves_it_to_the_caller() -> None:
    event = changes(_doc("/buckets/landing", _entry("via-filer.csv", etag=None)), "landing")[0].event
    assert event is not None
    assert event.etag == ""
    assert entry_etag({"extended": {"Seaweed-X-Amz-ETag": "%%%"}}) == ""


def test_batched_events_are_all_returned() -> None:
    outer = {"events": [_doc("/buckets/landing", _entry("a.csv")), _doc("/buckets/landing", _entry("b.csv"))]}
    assert [c.event.key for c in changes(outer, "landing") if c.event] == ["a.csv", "b.csv"]


def test_json_stream_splits_pretty_printed_documents_and_skips_noise() -> None:
    first = json.dumps(_doc("/buckets/landing", _entry("a.csv")), indent=2)
    second = json.dumps(_doc("/buckets/landing", _entry("b.csv")), indent=2)
    stream = JsonObjectStream()
    lines = [
        "tail: connecting\n",
        *(line + "\n" for line in first.splitlines()),
        *(line + "\n" for line in second.splitlines()),
    ]
    documents = [d for d in (stream.feed(line) for line in lines) if d is not None]
    assert [d["eventNotification"]["newEntry"]["name"] for d in documents] == ["a.csv", "b.csv"]


def test_checkpoint_round_trip_and_unreadable_file(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "publisher" / "landing.checkpoint.json")
    assert checkpoint.load() is None
    checkpoint.save(TS)
    assert checkpoint.load() == TS
    checkpoint.path.write_text("{garbage")
    with pytest.raises(EventError, match="unreadable"):
        checkpoint.load()
