"""The reuse key: a hash of everything that decides a job's rows, so rows are reused only across equal scoring.

Two jobs with the same key give the same rows for the same file (or mini-batch of files): the
same model version, deployment, worker runtime (kind, entry, environment), scoring code (by
content: a script changed in place at the same URI changes the key) and output settings. What
changes only speed or accounting (instances, processes, retries, ``error_threshold``,
``mini_batch_size``) is left out: a mini-batch's rows do not depend on how many there are.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.specs.deployment import BatchDeployment

# Bumped when the way rows are written changes, so no version written the old way is reused.
_KEY_FORMAT = 1


def reuse_key(deployment: BatchDeployment, model: ResolvedModel, runtime: WorkerRuntime) -> str:
    """The hex SHA-256 of what decides the rows of a job scoring with these."""
    settings = deployment.settings
    decided_by = {
        "format": _KEY_FORMAT,
        "model": [model.name, model.version],
        "deployment": deployment.name,
        "runtime": [runtime.kind, runtime.entry, runtime.environment_key],
        "code": None if runtime.builtin else code_digest(runtime.code_dir),
        "output": [settings.output_action.value, settings.output_file_name],
        "environment_variables": dict(sorted(settings.environment_variables.items())),
    }
    return hashlib.sha256(json.dumps(decided_by, sort_keys=True).encode()).hexdigest()


def code_digest(folder: Path) -> str:
    """A hash of every file under ``folder`` by its relative path and content (bytecode caches aside)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
