"""``prepare_runtime``: turn a deployment and its resolved model into the ``WorkerRuntime`` a job runs.

An MLflow no-code deployment runs the built-in scorer in its model's own environment, or the
deployment's ``environment`` when it gives one, or batchpoint's own interpreter when that satisfies
it (``runtime_environment.py``). A custom deployment runs its ``scoring_script`` from its code
folder (fetched from S3 once per URI) in its environment, or in batchpoint's interpreter when it
names none. Environments are built once per content key by ``EnvironmentBuilder``.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.environments.builder import EnvironmentBuilder
from batchpoint.errors import ModelError, SpecError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.code_cache import fetch_code
from batchpoint.scoring.environment_decision import EnvironmentDecision
from batchpoint.scoring.environment_log import EnvironmentLog
from batchpoint.scoring.runtime import BUILTIN_DIR, MLFLOW_SCORER, WorkerRuntime
from batchpoint.scoring.runtime_environment import model_environment_for, script_environment_for
from batchpoint.specs.deployment import CODE_FORMS, BatchDeployment, CodeConfiguration
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.storage.port import ObjectStore
from batchpoint.storage.retrying import with_retries


def prepare_runtime(
    deployment: BatchDeployment,
    model: ResolvedModel,
    *,
    settings: Settings,
    store: ObjectStore,
    environment: EnvironmentSpec | None,
    builder: EnvironmentBuilder | None = None,
    log: logging.Logger | EnvironmentLog | None = None,
) -> WorkerRuntime:
    """The runtime for ``deployment`` scoring with ``model``: code fetched, environment built or reused.

    ``environment`` is the deployment's resolved environment; it must be given when the deployment
    names one (for a no-code deployment it overrides the model's own). Each step of choosing and
    building the environment is said in ``log``; an ``EnvironmentLog`` also keeps the lines, and
    they go on the runtime (``environment_lines``) for the job's user log. Raises ``ModelError`` for
    a no-code deployment of a custom model, ``SpecError`` when the code folder or scoring script is
    missing, ``EnvironmentBuildError`` when uv cannot build (naming the requirement it blamed).
    """
    if not isinstance(log, EnvironmentLog):
        return _prepare(deployment, model, settings, store, environment, builder, log)
    runtime = _prepare(deployment, model, settings, store, environment, builder, log.logger)
    return dataclasses.replace(runtime, environment_lines=tuple(log.lines))


def _prepare(
    deployment: BatchDeployment,
    model: ResolvedModel,
    settings: Settings,
    store: ObjectStore,
    environment: EnvironmentSpec | None,
    builder: EnvironmentBuilder | None,
    log: logging.Logger | None,
) -> WorkerRuntime:
    builder = builder or EnvironmentBuilder(settings.cache_dir, python_downloads=settings.python_downloads)
    code = deployment.code_configuration
    if code is None:
        if model.kind != "mlflow_model":
            raise ModelError(
                f"deployment {deployment.name}: model {model.uri} is a {model.kind}, and a deployment without "
                "code_configuration can only score an MLflow model; add code_configuration "
                "(code and scoring_script) to score it with your own script"
            )
        _require_resolved(deployment, environment)
        python, decision = model_environment_for(
            deployment, model.local_path, environment, settings=settings, builder=builder, log=log
        )
        return WorkerRuntime(
            kind="mlflow",
            python=python,
            code_dir=BUILTIN_DIR,
            entry=MLFLOW_SCORER,
            model_dir=model.model_dir,
            environment_key=decision.environment_key,
            environment=decision,
        )
    code_dir, code_uri = _code_folder(code, with_retries(store, settings), settings.cache_dir)
    _require_resolved(deployment, environment)
    script_python: Path = Path(sys.executable)
    chosen: EnvironmentDecision | None = None
    if environment is not None:
        script_python, chosen = script_environment_for(
            deployment, environment, settings=settings, builder=builder, log=log
        )
    elif log is not None:
        log.info("environment: the deployment names no environment: scoring in batchpoint's own interpreter")
    return WorkerRuntime(
        kind="script",
        python=script_python,
        code_dir=code_dir,
        entry=code.scoring_script,
        model_dir=model.model_dir,
        environment_key=chosen.environment_key if chosen else None,
        code_uri=code_uri,
        environment=chosen,
    )


def _require_resolved(deployment: BatchDeployment, environment: EnvironmentSpec | None) -> None:
    if environment is None and deployment.environment:
        # Scoring in another environment instead would hide a missing one until import time.
        raise SpecError(
            "environment",
            f"deployment {deployment.name} names {deployment.environment} but it was not resolved to an "
            "environment spec to build",
            "the deployment's environment resolved through the workspace, or no environment",
        )


def _code_folder(code: CodeConfiguration, store: ObjectStore, cache_dir: Path) -> tuple[Path, str]:
    """The local folder holding the scoring code, and the URI (or local path) it came from."""
    if code.code.startswith("s3://"):
        folder, uri = fetch_code(code.code, store, cache_dir), code.code
    else:
        # A local folder: what tests and local development point at directly.
        folder = Path(code.code).resolve()
        uri = str(folder)
        if not folder.is_dir():
            raise SpecError("code_configuration.code", f"{code.code} is not a folder", CODE_FORMS)
    script = (folder / code.scoring_script).resolve()
    if not script.is_relative_to(folder.resolve()) or not script.is_file():
        raise SpecError(
            "code_configuration.scoring_script",
            f"{code.scoring_script} is not a file in {code.code}",
            "the script's path relative to code_configuration.code",
        )
    return folder, uri
