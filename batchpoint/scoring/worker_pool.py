"""A pool of long-lived worker processes, each with the model loaded once.

Processes come from a ``forkserver`` (never ``fork`` from the threaded parent: Dagster and boto3
run threads, and a forked copy of a held lock deadlocks). The forkserver preloads pandas, pyarrow
and MLflow so each worker starts as a cheap fork of an already-imported interpreter instead of
paying ~2 s of imports. Every mini-batch is a separate ``Future``: a later issue can add
per-mini-batch timeouts, retries and replacement of crashed workers without changing callers.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from batchpoint.errors import ModelError
from batchpoint.scoring import mlflow_worker
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.results import MiniBatchResult
from batchpoint.scoring.worker_config import WorkerConfig

PRELOAD: tuple[str, ...] = (
    # Loading a scikit-learn model imports skops.io, which imports every estimator: ~5 s per process.
    "mlflow.sklearn",
    "skops.io",
    "batchpoint.scoring.worker_preload",
)


@dataclass(frozen=True)
class PoolStartup:
    """How long the pool took to have every worker initialised, and each worker's ``init()`` time."""

    seconds: float
    workers: tuple[mlflow_worker.WorkerStatus, ...]


class WorkerPool:
    """``workers`` processes running ``mlflow_worker.init_worker(config)`` once, then mini-batches."""

    def __init__(
        self,
        config: WorkerConfig,
        workers: int,
        *,
        start_method: str = "forkserver",
        preload: Sequence[str] = PRELOAD,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Only takes effect when this process starts its forkserver (the first pool).
            context.set_forkserver_preload(list(preload))
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=mlflow_worker.init_worker,
            initargs=(config, context.Barrier(workers)),
        )

    def start(self) -> PoolStartup:
        """Start every worker and wait for its ``init()``; ``ModelError`` if one failed to load the model."""
        started = time.perf_counter()
        pings = [self._executor.submit(mlflow_worker.ping) for _ in range(self.workers)]
        statuses = tuple(p.result() for p in pings)
        failed = [s.error for s in statuses if s.error]
        if failed:
            raise ModelError(failed[0])
        return PoolStartup(time.perf_counter() - started, statuses)

    def submit(self, mini_batch: MiniBatch) -> Future[MiniBatchResult]:
        """Queue ``mini_batch`` for the next free worker."""
        return self._executor.submit(mlflow_worker.run_mini_batch, mini_batch)

    def close(self) -> None:
        """Stop the workers; queued mini-batches are cancelled."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
