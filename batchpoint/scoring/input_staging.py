"""Local copies of a mini-batch's input files: ``run(mini_batch)`` gets local paths, as in Azure.

Files are downloaded ahead of the workers by a few threads (``InputStager.prefetch``), each
mini-batch into its own folder keeping the file's base name (scripts write it into their output),
and deleted once the mini-batch is final. A file that cannot be downloaded for its own reason (it
is gone) fails alone; a store that stays unreachable through the store's retries
(``StoreUnreachableError``) is no file's fault: the mini-batch carries ``store_error``, nothing more
is downloaded, and the job fails (``docs/scoring-runtime.md``).
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from batchpoint.errors import BatchpointError
from batchpoint.job_records.failure_causes import FailureCause, cause_of
from batchpoint.scoring.planning import MiniBatch
from batchpoint.storage.port import ObjectInfo, ObjectStore

DOWNLOAD_THREADS = 4


@dataclass(frozen=True)
class StagedMiniBatch:
    """A mini-batch on local disk: the paths handed to ``run()`` and the files that could not be fetched."""

    mini_batch: MiniBatch
    folder: Path
    local: dict[str, Path] = field(default_factory=dict)
    """Input key → local path, in mini-batch order, for the files that were downloaded."""
    errors: dict[str, str] = field(default_factory=dict)
    """Input key → why it could not be downloaded, for a reason of its own (it is gone)."""
    store_error: str | None = None
    """Why the store could not be reached (the retries were spent); the files left are not downloaded."""

    @property
    def paths(self) -> list[Path]:
        """Local paths in mini-batch order."""
        return list(self.local.values())

    def key_of(self, path: str | Path) -> str | None:
        """The input key a local path stands for."""
        wanted = str(path)
        return next((key for key, local in self.local.items() if str(local) == wanted), None)


class InputStager:
    """Downloads mini-batches under ``root`` with a small thread pool; ``get`` waits for one."""

    def __init__(self, store: ObjectStore, root: Path, threads: int = DOWNLOAD_THREADS) -> None:
        self._store = store
        self._root = root
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stage")
        self._pending: dict[int, Future[StagedMiniBatch]] = {}
        self._lock = Lock()
        self._store_error: str | None = None

    def prefetch(self, mini_batch: MiniBatch) -> None:
        """Start downloading ``mini_batch`` unless it is already on its way."""
        with self._lock:
            if mini_batch.index not in self._pending:
                self._pending[mini_batch.index] = self._executor.submit(self._stage, mini_batch)

    def get(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        """The staged mini-batch, downloading it now if nobody asked before."""
        self.prefetch(mini_batch)
        with self._lock:
            pending = self._pending[mini_batch.index]
        return pending.result()

    def release(self, mini_batch: MiniBatch) -> None:
        """Delete the mini-batch's local files: its outcome is final."""
        with self._lock:
            pending = self._pending.pop(mini_batch.index, None)
        if pending is not None:
            pending.cancel()
        shutil.rmtree(self._folder(mini_batch), ignore_errors=True)

    def close(self) -> None:
        """Stop downloading and delete everything staged."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._root, ignore_errors=True)

    def _folder(self, mini_batch: MiniBatch) -> Path:
        return self._root / f"mb-{mini_batch.index:06d}"

    def _stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        folder = self._folder(mini_batch)
        local: dict[str, Path] = {}
        errors: dict[str, str] = {}
        store_error: str | None = None
        for position, info in enumerate(mini_batch.files):
            if self._store_error is not None:
                store_error = self._store_error
                break  # the store is gone for this job: waiting out the retries again helps nobody
            target = self._target(folder, local, position, info)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._store.download(info.bucket, info.key, target)
            except BatchpointError as exc:
                if cause_of(exc) is FailureCause.INFRASTRUCTURE:
                    with self._lock:
                        self._store_error = self._store_error or str(exc)
                    store_error = str(exc)
                    break
                errors[info.key] = f"could not download s3://{info.bucket}/{info.key}: {exc}"
                continue
            except OSError as exc:
                errors[info.key] = f"could not write s3://{info.bucket}/{info.key} to {target}: {exc}"
                continue
            local[info.key] = target
        return StagedMiniBatch(mini_batch, folder, local, errors, store_error)

    @staticmethod
    def _target(folder: Path, local: dict[str, Path], position: int, info: ObjectInfo) -> Path:
        # The base name is kept (scripts write it next to their predictions); two inputs with the
        # same name from different folders get a numbered sub-folder each.
        target = folder / info.name
        if any(p.name == info.name for p in local.values()):
            target = folder / str(position) / info.name
        return target
