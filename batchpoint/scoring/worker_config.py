"""What every worker process is started with; defined in ``builtin/worker_config.py``.

It is standalone there because the built-in scorer applies the limits itself in a model's own environment.
"""

from __future__ import annotations

from batchpoint.scoring.builtin.worker_config import THREAD_LIMITS

__all__ = ["THREAD_LIMITS"]
