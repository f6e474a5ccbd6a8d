"""Isolated model environments: one uv-built virtual environment per environment spec.

``EnvironmentBuilder.ensure(spec)`` returns the interpreter a deployment's scoring workers run in,
building it once per distinct spec (content hash) and reusing it afterwards.
"""

from __future__ import annotations

from batchpoint.environments.build_errors import EnvironmentBuildError
from batchpoint.environments.builder import BuiltEnvironment, EnvironmentBuilder
from batchpoint.environments.interpreters import find_interpreter
from batchpoint.environments.keys import environment_key, normalised_requirements
from batchpoint.environments.uv_binary import find_uv

__all__ = [
    "BuiltEnvironment",
    "EnvironmentBuildError",
    "EnvironmentBuilder",
    "environment_key",
    "find_interpreter",
    "find_uv",
    "normalised_requirements",
]
