"""Which months of an endpoint's landing folder their ``latest`` output does not cover (pure).

The data-arrival path scores a month when an event says a file landed. When events are lost (the
broker was down, the publisher died, a queued run was cancelled), reconciliation notices: it
compares each month's landing listing, ``(key, ETag)`` per file, with the inputs of the manifest
``latest`` points at, and names the months that need a run and why:

- *unscored*: a landed file that ``latest`` does not hold (or there is no ``latest`` at all);
- *changed*: a file whose ETag is not the one ``latest`` scored (it was overwritten);
- *unfinished*: a file that failed in ``latest`` for anything but its own content (the store was
  unreachable: ``job_records/failure_causes.py``). Jobs fail rather than complete with such a file, so
  only a ``latest`` written before that rule holds one; its rows were lost, not rejected.

Not reasons: a file that failed in ``latest`` for its content (re-scoring those is
``backfill --failed-only``; the same file fails the same way), a file removed since (``latest``
keeps its rows until the month is scored again for another reason), a month without files. A
month whose reasons are all files written in the last ``grace_seconds`` is left to the
data-arrival sensor: their events are probably still on their way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.outputs.manifest import Manifest
from batchpoint.storage.port import ObjectInfo

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_NAMES_SHOWN = 3


def month_of(prefix: str, key: str) -> str | None:
    """The month folder of ``<prefix><YYYY-MM>/<file>``; ``None`` for folder markers and stray keys.

    The same rule as ``batchpoint.triggers.routing``, which dead-letters such keys when their events arrive.
    """
    if not key.startswith(prefix) or key.endswith("/"):
        return None
    month, sep, name = key[len(prefix) :].partition("/")
    return month if sep and name and _MONTH.match(month) else None


def landing_months(objects: Iterable[ObjectInfo], prefix: str) -> dict[str, list[ObjectInfo]]:
    """One listing of a landing folder grouped by month (keys outside month folders left out)."""
    months: dict[str, list[ObjectInfo]] = {}
    for obj in objects:
        month = month_of(prefix, obj.key)
        if month is not None:
            months.setdefault(month, []).append(obj)
    return months


@dataclass(frozen=True)
class LatestInputs:
    """What a month's ``latest`` version scored: its id, ``s3 uri -> ETag`` of each input, and the
    URIs of the inputs that failed for anything but their content."""

    version_id: str
    inputs: Mapping[str, str]
    unfinished: frozenset[str] = frozenset()

    @classmethod
    def of(cls, version_id: str, manifest: Manifest) -> LatestInputs:
        """From the version's manifest: every input it records, whatever its outcome."""
        unfinished = frozenset(f.uri for f in manifest.inputs if not f.ok and f.cause is not FailureCause.CONTENT)
        return cls(version_id, {f.uri: f.etag for f in manifest.inputs}, unfinished)

    def holds(self, versions: Iterable[tuple[str, str]]) -> bool:
        """True when this version scored every ``(s3 uri, ETag)`` given (an outcome of its content
        counts; a file it could not finish does not). ETags compare without their quotes."""
        return all(
            uri not in self.unfinished and self.inputs.get(uri, "\0").strip('"') == etag.strip('"')
            for uri, etag in versions
        )


@dataclass(frozen=True)
class MonthCheck:
    """One month of one landing folder compared with its ``latest`` output."""

    partition: str
    files: int
    unscored: tuple[str, ...]
    """URIs of landed files ``latest`` does not hold, sorted."""
    changed: tuple[str, ...]
    """URIs of files whose ETag differs from the one ``latest`` scored, sorted."""
    settling: bool
    """Every file behind a reason was written within the grace period: the arrival sensor's turn."""
    state: str
    """Digest of the listing and the ``latest`` version compared with it (equal state, equal digest)."""
    unfinished: tuple[str, ...] = ()
    """URIs of unchanged files ``latest`` failed for anything but their content, sorted."""

    @property
    def needs_run(self) -> bool:
        """Whether reconciliation should ask for a run of this month now."""
        return bool(self.unscored or self.changed or self.unfinished) and not self.settling

    def describe(self) -> str:
        """Why the month needs a run, for logs: counts and the first few file names."""
        reasons = (("unscored", self.unscored), ("changed", self.changed), ("unfinished", self.unfinished))
        parts = [f"{len(uris)} {what} ({_names(uris)})" for what, uris in reasons if uris]
        return f"{self.partition}: {', '.join(parts) or 'in sync'} of {self.files} files"


def check_month(
    partition: str,
    files: Sequence[ObjectInfo],
    latest: LatestInputs | None,
    now: datetime,
    grace_seconds: float,
) -> MonthCheck:
    """Compare one month's landed ``files`` with what its ``latest`` version scored.

    ``latest`` is ``None`` when the month has no ``latest`` yet. ``now`` and the files'
    ``last_modified`` must both be timezone-aware; a file without ``last_modified`` counts as old.
    """
    scored = latest.inputs if latest else {}
    lost = latest.unfinished if latest else frozenset()
    unscored: list[str] = []
    changed: list[str] = []
    unfinished: list[str] = []
    recent = True
    for obj in files:
        uri = f"s3://{obj.bucket}/{obj.key}"
        etag = scored.get(uri)
        if etag == obj.etag and uri not in lost:
            continue
        (unscored if etag is None else changed if etag != obj.etag else unfinished).append(uri)
        if obj.last_modified is None or (now - obj.last_modified).total_seconds() >= grace_seconds:
            recent = False
    reasons = bool(unscored or changed or unfinished)
    return MonthCheck(
        partition=partition,
        files=len(files),
        unscored=tuple(sorted(unscored)),
        changed=tuple(sorted(changed)),
        settling=reasons and recent,
        state=state_digest(files, latest.version_id if latest else None),
        unfinished=tuple(sorted(unfinished)),
    )


def reconcile(
    listing: Mapping[str, Sequence[ObjectInfo]],
    latest: Mapping[str, LatestInputs],
    now: datetime,
    grace_seconds: float,
) -> list[MonthCheck]:
    """The months of ``listing`` (month -> files) that need a run, oldest month first.

    A month missing from ``latest`` has no ``latest`` version yet.
    """
    checks = []
    for month in sorted(listing):
        check = check_month(month, listing[month], latest.get(month), now, grace_seconds)
        if check.needs_run:
            checks.append(check)
    return checks


def state_digest(files: Iterable[ObjectInfo], latest_version: str | None) -> str:
    """Digest of ``(key, ETag)`` of every file plus the ``latest`` version they were compared with.

    Used in the run key: one request per state (and per attempt, see ``attempt_run_key``).
    """
    lines = sorted(f"{obj.bucket}/{obj.key}@{obj.etag}" for obj in files)
    lines.append(f"latest={latest_version or ''}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def attempt_run_key(state_key: str, failed_attempts: int, max_retries: int) -> str | None:
    """The run key of the next attempt at a month's state, after ``failed_attempts`` runs failed.

    A failed run leaves the listing and ``latest`` as they were, so a key made of the state alone
    would be used up by it (Dagster drops a request whose key it has seen). The first attempt's
    key is ``state_key``; retry ``n`` is ``<state_key>:retry-<n>``. ``None`` once ``max_retries``
    retries failed too: the state is not asked for again until a file or ``latest`` changes.
    """
    if failed_attempts > max_retries:
        return None
    return state_key if failed_attempts == 0 else f"{state_key}:retry-{failed_attempts}"


def _names(uris: Sequence[str]) -> str:
    shown = ", ".join(uri.rsplit("/", 1)[-1] for uri in uris[:_NAMES_SHOWN])
    return shown + (f", … {len(uris) - _NAMES_SHOWN} more" if len(uris) > _NAMES_SHOWN else "")
