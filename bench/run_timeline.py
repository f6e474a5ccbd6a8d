"""Every event of one Dagster run, in seconds from an origin (the landing's last PUT): where a run's time goes.

``run_timeline`` reads the run's event log over GraphQL; ``compare.py --timeline`` prints it for the
run that covered each workload's landing (stderr), and puts it in the JSON line. The bench's
breakdown sums phases; this shows the steps inside them (the run's own log lines say what each does).
"""

from __future__ import annotations

import json
import urllib.request

from batchpoint.config import Settings

_EVENTS = """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection { events {
  __typename ... on MessageEvent { timestamp message stepKey } } } } }"""


def run_timeline(settings: Settings, run_id: str, origin: float) -> list[tuple[float, str, str]]:
    """``(seconds after origin, event type, first 100 characters of its message)`` for each event of the run."""
    body = json.dumps({"query": _EVENTS, "variables": {"id": run_id}}).encode()
    request = urllib.request.Request(settings.dagster_url + "/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        events = json.load(response)["data"]["logsForRun"]["events"]
    rows = []
    for event in events:
        if "timestamp" not in event:
            continue
        message = " ".join((event.get("message") or "").split())[:100]
        rows.append((round(int(event["timestamp"]) / 1000 - origin, 3), event["__typename"], message))
    return rows


def timeline_text(rows: list[tuple[float, str, str]]) -> str:
    """One line per event: offset, gap since the previous event, type, message."""
    lines, previous = [], None
    for offset, kind, message in rows:
        gap = "" if previous is None else f"+{offset - previous:.3f}"
        lines.append(f"{offset:8.3f} {gap:>7} {kind:32} {message}")
        previous = offset
    return "\n".join(lines)
