"""Files that land in a job's folder while it runs, taken into the same job.

A month's runs go one at a time (``docs/decisions/every-file-once.md``), so a file that lands
after a run listed its folder used to wait for that whole run to end, then for a second run to
start, re-publish every row and move ``latest`` again. Instead, once the pool has every outcome
of its plan in (``ScriptPool.run``'s ``more``), the job lists its folder again and scores the new
files with the same workers, still running, before it publishes. The sensor, which held those
files' events while the run ran, then finds them in ``latest`` with the same ETags and asks for
no run (``dagster_project/arrival_sensor.py`` ``_in_latest``); a run asked for them anyway (the
reconciliation sensor, an endpoint that is not incremental) scores nothing again.

Only new keys are taken. A key the job holds already, with another ETag now, is left for the next
run, which scores the change: re-scoring it here would mean taking back rows already merged. At
most ``LATE_ROUNDS`` listings find something, so a folder that never stops filling still gets
its version published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from batchpoint.errors import BatchpointError
from batchpoint.scoring.planning import JobPlan, MiniBatch, extend_plan
from batchpoint.storage.port import ObjectInfo

LATE_ROUNDS = 3
"""Listings after the plan that may add files; a quiet listing ends the job's intake at once."""


class LateFiles:
    """Plans files listed after the job began behind its own (``ScriptPool.run``'s ``more``).

    ``relist`` lists the job's folder now; ``skip`` holds the (bucket, key) of inputs the job
    carries over without scoring (reused rows). ``on_plan`` is told every extended plan (the
    tracker counts progress against it). ``taken`` is every file added, in the order taken.
    """

    def __init__(
        self,
        relist: Callable[[], Sequence[ObjectInfo]],
        plan: JobPlan,
        instance_count: int,
        skip: set[tuple[str, str]],
        on_plan: Callable[[JobPlan], None],
        log: logging.Logger,
        rounds: int = LATE_ROUNDS,
    ) -> None:
        self._relist = relist
        self.plan = plan
        self._instances = instance_count
        self._skip = skip
        self._on_plan = on_plan
        self._log = log
        self._rounds = rounds
        self.taken: list[ObjectInfo] = []

    def __call__(self) -> Sequence[MiniBatch]:
        """The mini-batches of files that are new since the plan; none once the rounds are used up."""
        if self._rounds <= 0:
            return ()
        try:
            listed = self._relist()
        except BatchpointError as exc:
            # Listing again is a courtesy to files that came late: the next run takes them.
            self._log.warning(f"could not list the folder again for files that landed meanwhile: {exc}")
            return ()
        known = self._skip | {(f.bucket, f.key) for f in self.plan.files}
        new = [f for f in listed if (f.bucket, f.key) not in known and not f.key.endswith("/")]
        if not new:
            self._rounds = 0  # the folder is quiet: publish now
            return ()
        self._rounds -= 1
        extended = extend_plan(self.plan, new, self._instances)
        added = extended.mini_batches[self.plan.mini_batch_count :]
        self.plan = extended
        self.taken.extend(f for f in extended.files if (f.bucket, f.key) not in known)
        self._on_plan(extended)
        self._log.info(
            f"{len(new)} files landed while the job ran: scoring them too, in {len(added)} more mini-batches"
        )
        return added
