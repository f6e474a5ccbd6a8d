"""What every worker process is started with, whatever it runs: native thread-pool limits.

Standard library only: the built-in scorer applies them itself inside a model's own environment, where
batchpoint is not importable. batchpoint's core imports them as ``batchpoint.scoring.worker_config``.
"""

from __future__ import annotations

# One single-threaded worker per core: two processes each running two OpenMP/BLAS threads made a
# gradient-boosting model 2.6x slower on small batches (STACK_NOTES). A deployment's own
# environment_variables may override them.
THREAD_LIMITS: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}
