"""Moved to ``batchpoint/job_records/failure_causes.py``; kept for ``script_pool.py``, which imports it here."""

from batchpoint.job_records.failure_causes import FailureCause

__all__ = ["FailureCause"]
