"""Fault-injection tests on the real embedded stack (issue 9, "Nothing lost under faults").

The harness: ``stack.py`` (``FaultStack``: kill everything, bring it up again; ``poll``),
``endpoint.py`` (``ScoringEndpoint``: the one endpoint + MLflow deployment setup, landing files,
finding a run and its worker pid), ``invariants.py`` (``assert_invariants``).

Run them with ``uv run --locked pytest tests/faults -m faults``. Each module gets one stack of its
own (a temp data dir, free ports; it may be killed and brought up again), from the ``faults``
fixture, and each test creates its own endpoint with ``ScoringEndpoint.create(faults)``, so
cases never share a month.

Adding a case (S3 outage, broker restart, publisher kill, ...), in a new ``test_<fault>.py``::

    @pytest.mark.faults
    def test_<fault>_<outcome>(faults: FaultStack) -> None:
        endpoint = ScoringEndpoint.create(faults)
        month = str(THIS_MONTH - <n>)
        endpoint.land(month, 6)
        ...                       # inject the fault: kill a process (faults.stack.children[...],
                                  # endpoint.started_run(month) gives a run and its worker pid),
                                  # stop a service, kill_everything() + up_again() ...
        assert_invariants(endpoint, month)

``assert_invariants`` checks what the issue asks after each fault (``latest`` holds every landed
file's rows exactly once, no partial version became ``latest``, no process is left behind, every
job is terminal) by polling for the outcome with generous deadlines, never by timing. A case that
needs other settings (e.g. a shorter timeout) makes its own ``FaultStack(fault_settings(...))``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.stack import FaultStack, fault_settings


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """The module's own stack (s3, kafka, mlflow, dagster, publisher, api) with short waits."""
    stack = FaultStack(fault_settings(tmp_path_factory.mktemp("faults")))
    try:
        yield stack.up()
    finally:
        stack.down()
