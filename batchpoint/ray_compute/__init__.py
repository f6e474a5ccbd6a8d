"""Compute on Ray: warm pools of node agents supervising driver processes (``docs/ray-compute.md``).

Only this package imports Ray (an import-linter contract). Ray reads some settings once, when it is
imported, so they are set here, before any module of the package imports it:

- ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: every address is ``127.0.0.1`` (Ray otherwise picks the
  machine's other interface, even when told ``--node-ip-address 127.0.0.1``);
- ``RAY_ENABLE_UV_RUN_RUNTIME_ENV=0``: Ray would otherwise wrap its workers in ``uv run``;
- ``RAY_USAGE_STATS_ENABLED=0``: nothing leaves the machine;
- ``RAY_AUTH_MODE=disabled``: Ray would otherwise turn token auth on in any process that finds a
  stray ``~/.ray/auth_token`` (``batchpoint/ray_environment.py`` says why that breaks runs).

A value already in the environment wins (a production cluster sets its own).
"""

from __future__ import annotations

import os

RAY_VARIABLES = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
}
for _name, _value in RAY_VARIABLES.items():
    os.environ.setdefault(_name, _value)
