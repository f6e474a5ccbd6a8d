"""SeaweedFS filer change events (``weed filer.meta.tail`` output) turned into ``ObjectCreated``.

``filer.meta.tail`` prints one pretty-printed protojson ``SubscribeMetadataResponse`` per change:
``{"directory", "eventNotification": {"oldEntry", "newEntry", "newParentPath", ...}, "tsNs"}``.
The S3 gateway stores an object's ETag, exactly as HEAD returns it, base64-encoded in the entry's
extended attribute ``Seaweed-X-Amz-ETag``. Everything here is pure.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka_edge.events import OBJECT_CREATED_PUT, ObjectCreated

log = logging.getLogger(__name__)

ETAG_ATTRIBUTE = "Seaweed-X-Amz-ETag"
MULTIPART_ATTRIBUTE = "X-Seaweedfs-Multipart-Part-Boundaries"
# Bookkeeping the S3 gateway keeps inside a bucket: parts of unfinished multipart uploads, versions.
_UPLOADS_DIR = ".uploads"
_VERSIONS_SUFFIX = ".versions"


@dataclass(frozen=True)
class FilerChange:
    """One filer change: when it happened, and the object it created (``None``: not an object write).

    ``event.etag`` is empty when the entry carries no S3 ETag (written outside the S3 API); the
    caller then asks S3 for it.
    """

    ts_ns: int
    event: ObjectCreated | None


class JsonObjectStream:
    """Splits the tail's stdout into JSON documents (each ends with a ``}`` alone on a line)."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """Add one line; the document it completes, if any."""
        if not self._lines and not line.startswith("{"):
            if line.strip():
                log.warning("ignoring unexpected output of filer.meta.tail: %s", line.rstrip())
            return None
        self._lines.append(line)
        if line.rstrip("\r\n") != "}":
            return None
        text, self._lines = "".join(self._lines), []
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            log.warning("ignoring undecodable filer event (%s): %.200s", exc, text)
            return None
        return document if isinstance(document, dict) else None


def changes(document: dict[str, Any], bucket: str) -> list[FilerChange]:
    """The changes in one tail document (newer filers may batch several under ``events``)."""
    found = [_change(document, bucket)] if "eventNotification" in document else []
    for nested in document.get("events") or []:
        if isinstance(nested, dict) and "eventNotification" in nested:
            found.append(_change(nested, bucket))
    return found


def _change(document: dict[str, Any], bucket: str) -> FilerChange:
    ts_ns = int(document.get("tsNs", 0))
    notification = document.get("eventNotification") or {}
    new = notification.get("newEntry")
    if not isinstance(new, dict) or new.get("isDirectory"):
        return FilerChange(ts_ns, None)  # a deletion, or a folder
    directory = notification.get("newParentPath") or document.get("directory", "")
    key = _object_key(f"{directory}/{new.get('name', '')}", bucket)
    if key is None:
        return FilerChange(ts_ns, None)
    etag = entry_etag(new)
    old = notification.get("oldEntry")
    moved = directory != document.get("directory", directory)
    if isinstance(old, dict) and not moved and etag and entry_etag(old) == etag:
        return FilerChange(ts_ns, None)  # metadata-only update: the content did not change
    attributes = new.get("attributes") or {}
    extended = new.get("extended") or {}
    name = "s3:ObjectCreated:CompleteMultipartUpload" if MULTIPART_ATTRIBUTE in extended else OBJECT_CREATED_PUT
    event = ObjectCreated(
        bucket=bucket,
        key=key,
        etag=etag,
        size=int(attributes.get("fileSize", 0)),
        event_time=iso_time(ts_ns),
        event_name=name,
        # MinIO's sequencer is the event time in nanoseconds, in hex.
        sequencer=f"{ts_ns:X}",
    )
    return FilerChange(ts_ns, event)


def _object_key(path: str, bucket: str) -> str | None:
    prefix = f"/buckets/{bucket}/"
    if not path.startswith(prefix):
        return None
    key = path[len(prefix) :]
    parts = key.split("/")
    if not key or not parts[-1] or parts[0] == _UPLOADS_DIR or any(p.endswith(_VERSIONS_SUFFIX) for p in parts[:-1]):
        return None
    return key


def entry_etag(entry: dict[str, Any]) -> str:
    """The S3 ETag stored on a filer entry, unquoted; empty when the entry has none."""
    raw = (entry.get("extended") or {}).get(ETAG_ATTRIBUTE)
    if not isinstance(raw, str):
        return ""
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8").strip('"')
    except (binascii.Error, UnicodeDecodeError):
        log.warning("entry %s has an unreadable %s: %r", entry.get("name"), ETAG_ATTRIBUTE, raw)
        return ""


def iso_time(ts_ns: int) -> str:
    """Nanoseconds since the epoch as S3's event time, e.g. ``2026-11-03T10:15:02.123Z``."""
    moment = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
