"""Services that die under a running stack: the store, the broker, the daemon, a scoring driver.

The stack's supervisor restarts a killed service on its ports (``batchpoint/stack/supervisor.py``);
what is checked is that no landed row is lost or doubled meanwhile (``assert_invariants``), whichever
way the month is scored again: the run itself retrying the store, or run monitoring and
reconciliation scoring the month anew. When the fault hits a run is not fixed (small months score in
a second or two), so nothing here asserts which path recovered, only the outcome.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.faults.endpoint import THIS_MONTH, ScoringEndpoint
from tests.faults.invariants import assert_invariants
from tests.faults.stack import FaultStack, poll, stack_processes

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]
FILES = 12


def service_pid(faults: FaultStack, service: str, name: str | None = None) -> int:
    """The pid (= process group) of the running ``service``'s child (``name``: one of several)."""
    children = faults.stack.children[service]
    return next(c.pid for c in children if name is None or c.name == name)


def restarted(faults: FaultStack, service: str, old_pid: int, name: str | None = None) -> int:
    """Poll until the supervisor runs ``service`` again under a new pid; that pid."""
    return poll(
        lambda: pid if (pid := service_pid(faults, service, name)) != old_pid else None,
        f"{service} restarted by the supervisor",
    )


def test_the_store_killed_during_a_run_loses_no_row(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 5)
    endpoint.land(month, FILES)
    endpoint.started_run(month)
    s3 = service_pid(faults, "s3")
    fault_at = time.monotonic()
    os.killpg(s3, signal.SIGKILL)
    restarted(faults, "s3", s3)
    assert_invariants(endpoint, month, fault_at)


def test_the_store_frozen_for_ten_seconds_during_a_run_loses_no_row(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 6)
    endpoint.land(month, FILES)
    endpoint.started_run(month)
    s3 = service_pid(faults, "s3")
    fault_at = time.monotonic()
    os.killpg(s3, signal.SIGSTOP)
    try:
        time.sleep(10)  # the fault itself: the store answers nothing for 10 s
    finally:
        os.killpg(s3, signal.SIGCONT)
    assert_invariants(endpoint, month, fault_at)


def test_the_broker_killed_while_files_land_loses_no_file(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 7)
    kafka = service_pid(faults, "kafka")
    landing = threading.Thread(target=endpoint.land, args=(month, FILES))
    landing.start()
    fault_at = time.monotonic()
    os.killpg(kafka, signal.SIGKILL)
    landing.join()
    restarted(faults, "kafka", kafka)
    assert_invariants(endpoint, month, fault_at)


def test_the_daemon_killed_as_files_land_loses_no_file(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 8)
    daemon = service_pid(faults, "dagster", "dagster-daemon")
    endpoint.land(month, FILES)
    fault_at = time.monotonic()
    os.killpg(daemon, signal.SIGKILL)
    restarted(faults, "dagster", daemon, "dagster-daemon")
    endpoint.wait_for_sensors()
    assert_invariants(endpoint, month, fault_at)


def test_a_killed_scoring_driver_is_replaced_and_its_mini_batch_retried(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 9)
    endpoint.land(month, FILES)
    run, worker = endpoint.started_run(month)
    # The run worker's descendants with the stack's data dir are its scoring drivers (and zygote).
    driver = poll(lambda: next(iter(descendants(worker) & set(stack_processes(faults.settings))), None), "a driver")
    with contextlib.suppress(ProcessLookupError):  # it may have ended with its job: the month is still checked
        fault_at = time.monotonic()
        os.kill(driver, signal.SIGKILL)
    endpoint.run_ended(run.run_id)
    assert_invariants(endpoint, month, fault_at)


def descendants(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from ``/proc/<pid>/task/*/children``)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                for child in children.read_text().split():
                    if int(child) not in found:
                        found.add(int(child))
                        todo.append(int(child))
    return found
