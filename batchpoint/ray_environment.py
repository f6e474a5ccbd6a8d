"""The environment variables of every process that starts or joins batchpoint's Ray cluster.

Ray reads them once, when ``ray`` is first imported, so they must be in the environment before
that: the stack gives them to all its children (``stack.services.child_env``), and a process
started some other way calls ``apply_ray_environment(settings)`` before its first ``import ray``::

    apply_ray_environment(settings)
    import ray
    ray.init(address=settings.ray_connect_address)

- ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` for the embedded head (and any cluster at a loopback
  address): Ray then takes 127.0.0.1 as every node's and driver's address and listens on loopback
  only. Without it Ray picks the machine's other interface (``--node-ip-address`` does not change
  that) and even rewrites a driver's ``127.0.0.1:<port>`` to that address, where a loopback head
  never answers. ``1`` for a cluster elsewhere: its nodes must reach the driver at a routable
  address. (A plain ``ray start --head`` on this machine listens on its other interface: give
  the address it prints, not 127.0.0.1.)
- ``RAY_ENABLE_UV_RUN_RUNTIME_ENV=0``: started under ``uv run``, Ray would otherwise run every
  worker through ``uv run`` too.
- ``RAY_USAGE_STATS_ENABLED=0``: no usage reports.
- ``RAY_AUTH_MODE``: ``disabled`` unless this process was given a mode. Ray 2.60 turns token
  authentication on by itself in any process that finds a token file (``~/.ray/auth_token``, which
  a plain local ``ray.init()`` writes), so one stray file would split the head, the agents and the
  drivers into processes that do and do not send a token, and every run on Ray would fail. A
  cluster that wants tokens sets ``RAY_AUTH_MODE=token`` (and its token) for every process.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping, MutableMapping

from batchpoint.config import Settings
from batchpoint.errors import StackError

LOOPBACK_VARIABLE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
AUTH_VARIABLE = "RAY_AUTH_MODE"


def on_loopback(address: str) -> bool:
    """Whether ``host:port`` names this machine's loopback interface."""
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False


def ray_environment(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Ray variables for a process of this installation (head, node, driver or tool).

    ``environ`` (``os.environ``) is read for one thing only: an authentication mode given to this
    process is passed on rather than replaced.
    """
    loopback = not settings.ray_address or on_loopback(settings.ray_address)
    given = os.environ if environ is None else environ
    return {
        LOOPBACK_VARIABLE: "0" if loopback else "1",
        "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        AUTH_VARIABLE: given.get(AUTH_VARIABLE, "disabled"),
    }


def apply_ray_environment(settings: Settings, environ: MutableMapping[str, str] | None = None) -> None:
    """Put ``ray_environment(settings)`` into ``environ`` (``os.environ``); call before ``import ray``.

    Raises ``StackError`` when this process imported Ray already with the other address choice:
    Ray would keep it, and a driver of the embedded head would then wait ~40 s for an address
    nothing listens on.
    """
    target = os.environ if environ is None else environ
    variables = ray_environment(settings, target)
    target.update(variables)
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is None:
        return
    wanted = variables[LOOPBACK_VARIABLE] == "1"
    if bool(getattr(constants, "ENABLE_RAY_CLUSTER", wanted)) != wanted:
        raise StackError(
            f"ray was imported before {LOOPBACK_VARIABLE}={variables[LOOPBACK_VARIABLE]} was set, and Ray "
            f"reads it only at import: call apply_ray_environment(settings) before the first `import ray` "
            f"(to reach {settings.ray_connect_address})"
        )
