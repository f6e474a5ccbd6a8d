"""What a worker process is started with: picklable, so it crosses into forkserver/spawn children."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.scoring.signature import InputSignature
from batchpoint.storage.port import ObjectStore

# One single-threaded worker per core: two processes each running two OpenMP/BLAS threads made a
# gradient-boosting model 2.6x slower on small batches (STACK_NOTES).
THREAD_LIMITS: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


@dataclass(frozen=True)
class S3StoreFactory:
    """Builds an S3 ``ObjectStore`` inside a worker: clients and their sockets do not cross processes."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str

    @classmethod
    def from_settings(cls, settings: Settings) -> S3StoreFactory:
        """The store of ``settings``."""
        return cls(settings.s3_url, settings.access_key, settings.secret_key, settings.region)

    def __call__(self) -> ObjectStore:
        # Imported here so the core imports boto3 only in the processes that talk to S3.
        from batchpoint.storage.s3 import S3Store

        return S3Store(self.endpoint_url, self.access_key, self.secret_key, self.region)


@dataclass(frozen=True)
class WorkerConfig:
    """Everything ``init()`` of a worker needs: the local model, its signature, a store, variables."""

    model_path: Path
    signature: InputSignature | None
    store_factory: Callable[[], ObjectStore]
    environment: Mapping[str, str] = field(default_factory=dict)
    fetch_threads: int = 4
