"""The MLflow no-code worker: runs inside each worker process of the pool.

``init_worker`` is the process initializer (Azure's ``init()``): it limits native thread pools,
loads the model once from its local folder and opens the process's own store client.
``run_mini_batch`` (Azure's ``run(mini_batch)``) scores one mini-batch with that model.
An ``init()`` failure is kept and reported by every call rather than raised, because an
initializer that raises breaks the whole pool with no message.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any

from batchpoint.errors import ModelError
from batchpoint.scoring.mini_batch import score_mini_batch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.results import MiniBatchResult
from batchpoint.scoring.worker_config import THREAD_LIMITS, WorkerConfig
from batchpoint.storage.port import ObjectInfo, ObjectStore


@dataclass(frozen=True)
class WorkerStatus:
    """A worker's answer to a ping: who it is, how long ``init()`` took, and its error if it failed."""

    pid: int
    init_seconds: float
    error: str | None


@dataclass
class _Worker:
    config: WorkerConfig
    model: Any
    store: ObjectStore
    fetcher: ThreadPoolExecutor


_worker: _Worker | None = None
_status: WorkerStatus | None = None
_ready: Barrier | None = None
READY_TIMEOUT_SECONDS = 600.0


def init_worker(config: WorkerConfig, ready: Barrier | None = None) -> None:
    """Load the model and open the store once for this process's lifetime.

    ``ready`` is the pool's start-up barrier, met by ``ping`` once every worker is initialised.
    """
    global _worker, _status, _ready  # noqa: PLW0603 -- per-process state is the point of an initializer
    _ready = ready
    started = time.perf_counter()
    # Before the model's libraries load, so OpenMP/BLAS read them at start-up.
    os.environ.update(THREAD_LIMITS)
    os.environ.update(config.environment)
    try:
        import mlflow.pyfunc
        import pyarrow as pa
        from threadpoolctl import threadpool_limits

        pa.set_cpu_count(1)
        # The dependency check costs ~2 s per process and only warns; the model's requirements are
        # recorded with it, and loading fails loudly anyway when they really do not fit.
        model = mlflow.pyfunc.load_model(str(config.model_path), suppress_warnings=True)
        # Libraries preloaded by the forkserver already read the variables; limit them at run time too.
        threadpool_limits(limits=1)
        store = config.store_factory()
    except Exception as exc:
        _status = WorkerStatus(
            os.getpid(),
            time.perf_counter() - started,
            f"init() failed in worker {os.getpid()} loading {config.model_path}: {type(exc).__name__}: {exc}",
        )
        return
    fetcher = ThreadPoolExecutor(max_workers=config.fetch_threads, thread_name_prefix="fetch")
    _worker = _Worker(config, model, store, fetcher)
    _status = WorkerStatus(os.getpid(), time.perf_counter() - started, None)


def ping() -> WorkerStatus:
    """This worker's status, once every worker of the pool is pinged (so each answers exactly one)."""
    if _ready is not None:
        # Broken: a worker never came up; its missing answer is the pool's to report.
        with contextlib.suppress(threading.BrokenBarrierError):
            _ready.wait(READY_TIMEOUT_SECONDS)
    return _status or WorkerStatus(os.getpid(), 0.0, "init() did not run in this worker")


def run_mini_batch(mini_batch: MiniBatch) -> MiniBatchResult:
    """Score ``mini_batch``; ``ModelError`` if this worker's ``init()`` failed."""
    worker = _worker
    if worker is None:
        raise ModelError(_status.error if _status and _status.error else "init() did not run in this worker")

    def fetch(info: ObjectInfo) -> bytes:
        return worker.store.get_bytes(info.bucket, info.key)

    return score_mini_batch(
        mini_batch,
        fetch=fetch,
        predict=worker.model.predict,
        signature=worker.config.signature,
        executor=worker.fetcher,
    )
