"""A minimal client of Dagster's GraphQL API: reload code, find runs, read why a run failed."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from batchpoint.errors import StackError

_log = logging.getLogger(__name__)
LOCATION_NAME = "batchpoint"

_RELOAD = """
mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) {
  __typename ... on WorkspaceLocationEntry { locationOrLoadError { __typename
    ... on PythonError { message } } } ... on PythonError { message } } }
"""
_RUNS = """
query($filter: RunsFilter!) { runsOrError(filter: $filter, limit: 20) { __typename
  ... on Runs { results { runId status startTime endTime tags { key value } } } } }
"""
_FAILURE = """
query($runId: ID!) { logsForRun(runId: $runId, limit: 500) { __typename
  ... on EventConnection { events { __typename
    ... on MessageEvent { message level }
    ... on ExecutionStepFailureEvent { error { message } }
    ... on RunFailureEvent { error { message } } } } } }
"""
_TERMINATE = """
mutation($runId: String!) { terminateRun(runId: $runId) { __typename
  ... on TerminateRunFailure { message } ... on RunNotFoundError { message }
  ... on PythonError { message } ... on UnauthorizedError { message } } }
"""
_SENSOR = """
query($sel: SensorSelector!) { sensorOrError(sensorSelector: $sel) { __typename
  ... on Sensor { name sensorState { status } } } }
"""
_LOCATION = """
query { workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
_MATERIALIZATION = """
query($key: AssetKeyInput!, $partitions: [String!]) { assetOrError(assetKey: $key) { __typename
  ... on Asset { assetMaterializations(partitions: $partitions, limit: 1) { runId partition
    metadataEntries { label __typename
      ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue }
      ... on FloatMetadataEntry { floatValue } ... on BoolMetadataEntry { boolValue }
      ... on UrlMetadataEntry { url } ... on MarkdownMetadataEntry { mdStr }
      ... on JsonMetadataEntry { jsonString } } } } } }
"""


@dataclass(frozen=True)
class RunInfo:
    """One Dagster run as the demo and the CLI show it."""

    run_id: str
    status: str
    start_time: float | None
    end_time: float | None
    tags: dict[str, str]


class DagsterClient:
    """GraphQL calls against the Dagster webserver at ``url``."""

    def __init__(self, url: str, location: str = LOCATION_NAME, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/") + "/graphql"
        self.location = location
        self.timeout = timeout

    def _call(self, query: str, variables: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:  # noqa: S310
                payload: dict[str, Any] = json.load(response)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise StackError(f"Dagster at {self.url} did not answer: {exc}") from exc
        if payload.get("errors"):
            raise StackError(f"Dagster GraphQL error: {payload['errors'][0].get('message')}")
        data: dict[str, Any] = payload["data"]
        return data

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one GraphQL query or mutation, its ``data``; ``StackError`` if Dagster is down or refuses it."""
        return self._call(query, variables)

    def reload_location(self) -> None:
        """Reload the code location so new or changed endpoints become assets, jobs and sensors."""
        # The answer comes only once the code server has re-imported the definitions: seconds when
        # idle, over 30 s on two loaded cores. A reload is never retried blind, so wait for it.
        timeout = max(self.timeout, RELOAD_TIMEOUT_SECONDS)
        result = self._call(_RELOAD, {"name": self.location}, timeout)["reloadRepositoryLocation"]
        error = result.get("message") or (result.get("locationOrLoadError") or {}).get("message")
        if error:
            raise StackError(f"reloading Dagster code location {self.location!r} failed: {error}")

    def _location_entry(self) -> dict[str, Any] | None:
        workspace = self._call(_LOCATION, {})["workspaceOrError"]
        for entry in workspace.get("locationEntries", []):
            if entry["name"] == self.location:
                found: dict[str, Any] = entry
                return found
        return None

    def location_loaded(self) -> bool:
        """Whether the code location finished loading (successfully or not)."""
        try:
            entry = self._location_entry()
        except StackError:
            return False
        return entry is not None and entry.get("loadStatus") == "LOADED" and entry["locationOrLoadError"] is not None

    def location_error(self) -> str | None:
        """The load error of the code location, ``None`` when it loaded fine."""
        entry = self._location_entry()
        if entry is None:
            return f"no code location named {self.location!r}"
        loaded = entry["locationOrLoadError"] or {}
        return str(loaded["message"]) if loaded.get("__typename") == "PythonError" else None

    def sensor_status(self, sensor: str, repository: str = "__repository__") -> str | None:
        """``RUNNING``/``STOPPED`` of a sensor, ``None`` if it does not exist (yet)."""
        selector = {"repositoryLocationName": self.location, "repositoryName": repository, "sensorName": sensor}
        found = self._call(_SENSOR, {"sel": selector})["sensorOrError"]
        if found["__typename"] != "Sensor":
            return None
        return str(found["sensorState"]["status"])

    def terminate_run(self, run_id: str) -> None:
        """Ask Dagster to stop a run (a run that already ended is left as it is)."""
        result = self._call(_TERMINATE, {"runId": run_id})["terminateRun"]
        kind = result["__typename"]
        if kind == "TerminateRunFailure" and "due to having status" in str(result.get("message")):
            return
        if kind != "TerminateRunSuccess":
            raise StackError(f"terminating Dagster run {run_id} failed: {kind}: {result.get('message')}")

    def runs(self, job_name: str, partition: str | None = None) -> list[RunInfo]:
        """The newest runs of a job (optionally of one partition), newest first."""
        run_filter: dict[str, Any] = {"pipelineName": job_name}
        if partition:
            run_filter["tags"] = [{"key": "dagster/partition", "value": partition}]
        found = self._call(_RUNS, {"filter": run_filter})["runsOrError"]
        return [
            RunInfo(
                r["runId"],
                r["status"],
                r.get("startTime"),
                r.get("endTime"),
                {t["key"]: t["value"] for t in r.get("tags", [])},
            )
            for r in found.get("results", [])
        ]

    def asset_defined(self, asset_key: list[str]) -> bool:
        """Whether the loaded definitions hold an asset with this key."""
        query = (
            "query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { __typename "
            "... on Asset { definition { id } } } }"
        )
        found = self._call(query, {"key": {"path": asset_key}})["assetOrError"]
        return found["__typename"] == "Asset" and found.get("definition") is not None

    def latest_materialization(self, asset_key: list[str], partition: str) -> dict[str, Any] | None:
        """Metadata of a partition's newest materialisation as ``label -> value`` (plus ``run_id``)."""
        found = self._call(_MATERIALIZATION, {"key": {"path": asset_key}, "partitions": [partition]})["assetOrError"]
        if found["__typename"] != "Asset" or not found["assetMaterializations"]:
            return None
        event = found["assetMaterializations"][0]
        values: dict[str, Any] = {"run_id": event["runId"]}
        for entry in event["metadataEntries"]:
            value = next((v for k, v in entry.items() if k not in {"label", "__typename"}), None)
            if entry["__typename"] == "JsonMetadataEntry" and isinstance(value, str):
                value = json.loads(value)
            values[entry["label"]] = value
        return values

    def run_messages(self, run_id: str) -> list[str]:
        """Every message a run logged (``context.log`` lines included), oldest first."""
        found = self._call(_FAILURE, {"runId": run_id})["logsForRun"]
        return [str(e["message"]) for e in found.get("events", []) if e.get("message")]

    def failure_messages(self, run_id: str) -> list[str]:
        """Error messages of a failed run (step failures first), for the user to read."""
        found = self._call(_FAILURE, {"runId": run_id})["logsForRun"]
        messages: list[str] = []
        for event in found.get("events", []):
            error = event.get("error")
            if error and error.get("message"):
                messages.append(str(error["message"]).strip())
            elif event.get("level") == "ERROR" and event.get("message"):
                messages.append(str(event["message"]).strip())
        return messages


RELOAD_TIMEOUT_SECONDS = 180.0


def reload_in_background(
    dagster_url: str, *, timeout: float = 60.0, on_start: Callable[[], None] | None = None
) -> threading.Thread:
    """Reload the code location on a daemon thread; a failure is logged, never raised.

    A reload takes seconds (the code server re-imports the definitions), and its callers (an API
    request, a sensor tick inside the very code server being reloaded) must not wait on it.
    ``on_start`` runs on the thread just before the reload is asked for.
    """

    def _reload() -> None:
        if on_start is not None:
            on_start()
        try:
            DagsterClient(dagster_url, timeout=timeout).reload_location()
        except StackError as exc:
            _log.info("Dagster was not reloaded (%s); it picks the change up on its next reload", exc)

    thread = threading.Thread(target=_reload, name="dagster-reload", daemon=True)
    thread.start()
    return thread
