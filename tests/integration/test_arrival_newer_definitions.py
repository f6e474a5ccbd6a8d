"""The arrival sensor on the real broker, when an event's endpoint is newer than the tick's definitions.

An endpoint created while a tick waits for events (or before a reload reached the daemon) has its
first files read by definitions that do not know it. The tick must then end without advancing, so
the next tick, built with the new endpoint, reads the same events and requests its month; a file
nothing in the registry watches is still dead-lettered at once, and an event held longer than
``arrival_max_wait_seconds`` (an endpoint that never builds) is dead-lettered too, so it cannot stop
every later event behind it. Files whose versions the month's ``latest`` holds already (its run
took them as they landed) ask for no run.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.sensor_definition import SensorExecutionData

from batchpoint.config import Settings
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import LatestPointer
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.datastore import open_datastore
from dagster_project.arrival_sensor import SENSOR_NAME
from dagster_project.definitions import build_definitions
from dagster_project.naming import job_name
from dagster_project.platform_resource import Platform
from kafka_edge.events import ObjectCreated
from kafka_edge.kafka_io import ensure_topics, make_producer, read_from
from kafka_edge.s3_event_json import encode

pytestmark = pytest.mark.integration

MONTH = datetime.now(UTC).strftime("%Y-%m")


@dataclasses.dataclass
class Sensor:
    """One arrival sensor over a registry of its own, evaluated tick by tick on a real instance."""

    settings: Settings
    instance: dg.DagsterInstance
    cursor: str | None = None

    def add_endpoint(self, name: str, prefix: str) -> None:
        registry = Registry(self.settings.registry)
        try:
            registry.create_or_update_endpoint(
                BatchEndpoint.parse({"name": name, "data_arrival": {"bucket": "landing", "prefix": prefix}})
            )
            registry.create_or_update_deployment(
                BatchDeployment.parse({"name": "scorer", "endpoint_name": name, "model": "models:/m/1"})
            )
        finally:
            registry.close()

    def tick(self) -> SensorExecutionData:
        """One tick of the sensor built from the registry as it is now; the cursor moves as Dagster's would."""
        definitions = build_definitions(Platform(self.settings))
        sensor = definitions.resolve_sensor_def(SENSOR_NAME)
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=definitions)
        data = sensor.evaluate_tick(context)
        if data.cursor is not None:
            self.cursor = data.cursor
        return data

    def stale_tick(self, endpoint: str, key: str) -> SensorExecutionData:
        """A tick of definitions built before ``endpoint`` (watching ``<endpoint>/``) was created and
        ``key`` landed in its folder; the cursor does not move."""
        definitions = build_definitions(Platform(self.settings))
        self.add_endpoint(endpoint, f"{endpoint}/")
        self.land(key)
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=definitions)
        return definitions.resolve_sensor_def(SENSOR_NAME).evaluate_tick(context)

    def land(self, key: str, etag: str = "", at: str = "2026-11-03T10:15:02.123Z") -> None:
        producer = make_producer(self.settings.bootstrap)
        event = ObjectCreated("landing", key, etag or f"etag-{key}", 10, at)
        producer.send(self.settings.events_topic, value=encode(event))
        producer.flush()
        producer.close()

    def dead_letters(self) -> list[str]:
        read = read_from(self.settings.bootstrap, self.settings.dead_letter_topic, None, 100, 2.0)
        return [json.loads(m.value)["reason"] for m in read.messages]


@pytest.fixture
def sensor(store_and_broker: Settings, unique_name: str, tmp_path: Path) -> Sensor:
    settings = dataclasses.replace(
        store_and_broker,
        data_dir=tmp_path,
        events_topic=f"{unique_name}-events",
        dead_letter_topic=f"{unique_name}-dlq",
        arrival_poll_seconds=0.2,
        arrival_read_seconds=2.0,
    )
    ensure_topics(settings.bootstrap, [settings.events_topic, settings.dead_letter_topic])
    made = Sensor(settings, dg.DagsterInstance.ephemeral())
    made.add_endpoint("sales", "sales/")
    return made


def test_an_event_of_a_newer_endpoint_is_read_again_by_the_next_definitions(sensor: Sensor) -> None:
    sensor.tick()  # the cursor now knows the topic's start
    before = sensor.cursor

    # The tick's definitions were built before the endpoint: the tick ends, the cursor stays.
    held = sensor.stale_tick("late", f"late/{MONTH}/part-000.csv")
    assert held.run_requests == []
    assert held.cursor == before  # the offsets did not move past the event
    assert "watched by an endpoint newer than this tick" in (held.skip_message or "")

    # The next tick, with the endpoint built, reads the same event and requests its month.
    requested = sensor.tick()
    assert [(r.job_name, r.partition_key) for r in requested.run_requests] == [(job_name("late"), MONTH)]
    assert sensor.dead_letters() == []


def test_an_event_nothing_watches_is_dead_lettered_and_a_held_one_only_until_max_wait(sensor: Sensor) -> None:
    sensor.tick()
    sensor.land(f"unwatched/{MONTH}/part-000.csv")
    sensor.tick()
    assert sensor.dead_letters() == [f"no endpoint watches s3://landing/unwatched/{MONTH}/part-000.csv"]

    # An endpoint in the registry whose definitions never come (here: always the old ones) holds
    # its event no longer than arrival_max_wait_seconds, then it is dead-lettered like any other.
    sensor.settings = dataclasses.replace(sensor.settings, arrival_max_wait_seconds=0.0)
    passed = sensor.stale_tick("never-built", f"never-built/{MONTH}/part-000.csv")
    assert passed.run_requests == []
    assert passed.cursor is not None and passed.cursor != sensor.cursor
    assert sensor.dead_letters()[-1] == f"no endpoint watches s3://landing/never-built/{MONTH}/part-000.csv"


def test_files_the_months_latest_holds_already_ask_for_no_run(sensor: Sensor) -> None:
    sensor.tick()
    first, late = f"sales/{MONTH}/part-000.csv", f"sales/{MONTH}/part-001.csv"
    sensor.land(first)
    assert [r.partition_key for r in sensor.tick().run_requests] == [MONTH]

    # That run took part-001 too as it landed, and published both with these ETags.
    store = open_datastore(sensor.settings)
    layout = OutputLayout(sensor.settings.output_bucket, "sales", MONTH)
    store.ensure_bucket(layout.bucket)
    inputs = [{"uri": f"s3://landing/{key}", "etag": f"etag-{key}", "status": "succeeded"} for key in (first, late)]
    store.put_bytes(layout.bucket, layout.manifest_key("v1"), json.dumps({"inputs": inputs}).encode())
    pointer = LatestPointer("v1", "job", layout.uri(layout.manifest_key("v1")), "", "now")
    store.put_bytes(layout.bucket, layout.latest_key, pointer.to_json())

    sensor.land(late)  # its event, read after the run: latest holds that version
    held = sensor.tick()
    assert held.run_requests == []
    assert "part-001.csv" not in (held.cursor or "")  # not kept pending either

    sensor.land(late, etag="etag-changed", at="2026-11-03T10:16:00.000Z")  # a new version of it
    assert [r.partition_key for r in sensor.tick().run_requests] == [MONTH]
