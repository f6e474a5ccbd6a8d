"""Which Python a deployment's workers run in: the model's own environment, the deployment's, or batchpoint's.

An MLflow no-code deployment scores in the environment its model was logged with
(``environments/model_environment.py``), or in the deployment's ``environment`` when it gives one
(Azure's override). Azure-runtime packages are left out, what the built-in scorer imports is added,
and when batchpoint's own interpreter already satisfies every requirement nothing is built. A
custom deployment's environment is built as given, less the Azure-runtime packages.
``properties.env_manager: local`` forces batchpoint's own interpreter for either. Every step is
said in ``log`` (the job's log) and recorded in the returned ``EnvironmentDecision``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.environments.azure_packages import without_azure_runtime
from batchpoint.environments.builder import EnvironmentBuilder
from batchpoint.environments.model_environment import read_model_environment, with_scorer_needs
from batchpoint.environments.own_interpreter import (
    OWN_PYTHON,
    installed_versions,
    python_fits,
    requirement_names,
    unsatisfied,
)
from batchpoint.errors import ModelError, SpecError
from batchpoint.scoring.environment_decision import EnvironmentChoice, EnvironmentDecision
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.deployment_properties import env_manager, keep_azure_packages
from batchpoint.specs.environment import EnvironmentSpec

Chosen = tuple[Path, EnvironmentDecision]
KEEP_HINT = "BATCHPOINT_KEEP_AZURE_PACKAGES=true or the deployment's properties.keep_azure_packages keeps them"
_quiet = logging.getLogger(__name__)


def _own(
    reason: str, choice: EnvironmentChoice = "own-interpreter", source: str | None = None, dropped: tuple[str, ...] = ()
) -> Chosen:
    decision = EnvironmentDecision(choice, reason, source=source, python_used=OWN_PYTHON, dropped=dropped)
    return Path(sys.executable), decision


def _keeps_azure(deployment: BatchDeployment, settings: Settings) -> bool:
    given = keep_azure_packages(deployment.properties)
    return settings.keep_azure_packages if given is None else given


def _forced_local(deployment: BatchDeployment, log: logging.Logger) -> Chosen | None:
    """Batchpoint's own interpreter when the deployment's ``properties.env_manager`` is ``local``."""
    if env_manager(deployment.properties) != "local":
        return None
    log.info("environment: properties.env_manager is local: scoring in batchpoint's own interpreter, no build")
    return _own("forced by the deployment's properties.env_manager: local", "local")


def model_environment_for(
    deployment: BatchDeployment,
    model_folder: Path,
    environment: EnvironmentSpec | None,
    *,
    settings: Settings,
    builder: EnvironmentBuilder,
    log: logging.Logger | None = None,
) -> Chosen:
    """The Python of an MLflow no-code deployment's workers and the decision behind it."""
    log = log or _quiet
    forced = _forced_local(deployment, log)
    if forced is not None:
        return forced
    if environment is not None:
        source = f"the deployment's environment {environment.name}"
        requirements, python = list(environment.installable_requirements), environment.python_version
        mlflow_version, build = None, []
    else:
        asked = read_model_environment(model_folder)
        if asked is None:
            log.info("environment: the model names no requirements: scoring in batchpoint's own interpreter")
            return _own("the model names no requirements (no python_env.yaml, requirements.txt or conda.yaml)")
        source, requirements, python = f"the model's {asked.source}", list(asked.requirements), asked.python_version
        mlflow_version, build = asked.mlflow_version, list(asked.build_requirements)
    log.info(_asks(source, python, len(requirements), len(build)))
    requirements, dropped = _drop_azure(requirements, deployment, settings, log)
    missing = unsatisfied(requirements, installed_versions(requirement_names(requirements)))
    if not missing and python_fits(python):
        log.info("environment: batchpoint's own interpreter satisfies every requirement: no build")
        return _own("batchpoint's own interpreter satisfies every requirement", source=source, dropped=tuple(dropped))
    log.info(f"environment: a build is needed: {_first(missing) or f'python {python} is not {OWN_PYTHON}'}")
    requirements, added = with_scorer_needs(requirements, mlflow_version)
    if added:
        log.info(f"environment: added for the built-in scorer: {', '.join(added)}")
    # Build dependencies go first, as MLflow installs them; they were not asked of our interpreter.
    spec = _spec(f"model-{deployment.name}", [*build, *requirements], python)
    return _built(spec, source, builder, log, dropped=tuple(dropped), added=tuple(added))


def script_environment_for(
    deployment: BatchDeployment,
    environment: EnvironmentSpec,
    *,
    settings: Settings,
    builder: EnvironmentBuilder,
    log: logging.Logger | None = None,
) -> Chosen:
    """The Python of a custom deployment's workers: its environment built (or reused), less Azure's packages."""
    log = log or _quiet
    forced = _forced_local(deployment, log)
    if forced is not None:
        return forced
    source = f"the deployment's environment {environment.name}"
    log.info(_asks(source, environment.python_version, len(environment.installable_requirements)))
    requirements, dropped = _drop_azure(list(environment.installable_requirements), deployment, settings, log)
    # Unchanged specs keep their key (and the environments already built for them).
    spec = environment if not dropped else _spec(environment.name, requirements, environment.python_version)
    return _built(spec, source, builder, log, dropped=tuple(dropped))


def _asks(source: str, python: str | None, requirements: int, build: int = 0) -> str:
    extra = f" (and {build} build dependencies)" if build else ""
    return f"environment: {source} asks for python {python or 'any'} and {requirements} requirements{extra}"


def _first(missing: list[str]) -> str:
    return f"{missing[0]}{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}" if missing else ""


def _drop_azure(
    requirements: list[str], deployment: BatchDeployment, settings: Settings, log: logging.Logger
) -> tuple[list[str], list[str]]:
    if _keeps_azure(deployment, settings):
        return requirements, []
    kept, dropped = without_azure_runtime(requirements)
    if dropped:
        log.info(f"environment: left out Azure-runtime packages {', '.join(dropped)} ({KEEP_HINT})")
    return kept, dropped


def _spec(name: str, requirements: list[str], python: str | None) -> EnvironmentSpec:
    try:
        return EnvironmentSpec.parse({"name": name[:255], "pip_requirements": requirements, "python_version": python})
    except SpecError as exc:
        raise ModelError(f"the environment asks for python {python!r}, which is not a version: {exc}") from exc


def _built(
    spec: EnvironmentSpec,
    source: str,
    builder: EnvironmentBuilder,
    log: logging.Logger,
    *,
    dropped: tuple[str, ...] = (),
    added: tuple[str, ...] = (),
) -> Chosen:
    key = builder.key(spec)[:16]
    if not builder.is_ready(spec):
        log.info(
            f"environment {key}: building (python {spec.python_version or 'default'}, "
            f"{len(spec.installable_requirements)} requirements)…"
        )
    try:
        built = builder.ensure(spec)
    except SpecError as exc:  # EnvironmentBuildError, or a Python the machine cannot give
        log.error(f"environment {key}: build failed: {exc}")
        raise
    if built.built_now:
        log.info(f"environment {key}: built in {built.seconds:.1f} s (python {built.python_version})")
    else:
        log.info(f"environment {key}: reused (python {built.python_version})")
    if built.python_warning:
        log.warning(f"environment {key}: {built.python_warning}")
    decision = EnvironmentDecision(
        "built",
        "built now" if built.built_now else "reused",
        source=source,
        python_requested=spec.python_version,
        python_used=built.python_version,
        python_warning=built.python_warning,
        dropped=dropped,
        added=added,
        environment_key=built.key,
        built_now=built.built_now,
        build_seconds=built.seconds,
        built_from=spec,
    )
    return built.python, decision
