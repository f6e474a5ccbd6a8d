"""Reaching Ray: the settings, the variables every Ray process gets, and the embedded head's command line."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.errors import SpecError, StackError
from batchpoint.ray_environment import apply_ray_environment, ray_environment
from batchpoint.stack.ports import free_ports
from batchpoint.stack.ray_head import ray_launch_command, ray_temp_dir
from batchpoint.stack.services import child_env, external_services, launches


def test_runs_connect_to_the_embedded_head_on_loopback_by_default() -> None:
    settings = Settings.from_env({"BATCHPOINT_RAY_PORT": "26379", "BATCHPOINT_HOST": "example.internal"})
    assert settings.ray_address == ""
    # The head listens on loopback whatever `host` says: Ray is told to use 127.0.0.1 for everything.
    assert settings.ray_connect_address == "127.0.0.1:26379"
    assert external_services(settings) == frozenset()


@pytest.mark.parametrize("address", ["ray-head:6379", "10.0.0.7:6379", "[fd00::7]:6379", "ray://ray-head:10001"])
def test_an_existing_cluster_is_reached_at_its_address_and_nothing_is_started(address: str) -> None:
    settings = Settings.from_env({"BATCHPOINT_RAY_ADDRESS": address})
    assert settings.ray_connect_address == address
    assert external_services(settings) == {"ray"}
    assert launches("ray", settings) == []
    assert Settings.from_env(settings.to_env()) == dataclasses.replace(settings, data_dir=settings.data_dir.resolve())


@pytest.mark.parametrize("address", ["ray://head", "head", "head:port", "http://head:6379", "auto"])
def test_a_ray_address_that_is_not_host_and_port_shows_the_valid_form(address: str) -> None:
    with pytest.raises(SpecError, match=r"BATCHPOINT_RAY_ADDRESS: got .* \(expected <host>:<port>"):
        Settings.from_env({"BATCHPOINT_RAY_ADDRESS": address})


def test_the_object_store_bound_is_in_mib_and_at_least_rays_minimum() -> None:
    assert Settings().ray_object_store_mb == 256
    assert Settings.from_env({"BATCHPOINT_RAY_OBJECT_STORE_MB": "75"}).ray_object_store_mb == 75
    with pytest.raises(SpecError, match=r"BATCHPOINT_RAY_OBJECT_STORE_MB: got 74 \(expected at least 75"):
        Settings.from_env({"BATCHPOINT_RAY_OBJECT_STORE_MB": "74"})


def test_embedded_head_processes_use_loopback_and_a_cluster_a_routable_address() -> None:
    embedded = ray_environment(Settings(), {})
    assert embedded == {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "disabled",
    }
    cluster = ray_environment(Settings(ray_address="ray-head:6379"))
    assert cluster["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "1"
    assert cluster["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] == "0"


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1:6379", "0"), ("localhost:6379", "0"), ("[::1]:6379", "0"), ("10.1.2.3:6379", "1"), ("ray:6379", "1")],
)
def test_a_cluster_at_a_loopback_address_is_reached_in_loopback_mode(address: str, loopback: str) -> None:
    # Another stack's embedded head listens on 127.0.0.1 only; cluster mode would look elsewhere.
    assert ray_environment(Settings(ray_address=address))["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == loopback


def test_token_auth_is_off_unless_the_process_was_given_a_mode() -> None:
    # Ray 2.60 turns token auth on in any process that finds ~/.ray/auth_token: one stray file
    # would otherwise split the cluster's processes into those that send a token and those that don't.
    assert ray_environment(Settings(), {})["RAY_AUTH_MODE"] == "disabled"
    assert ray_environment(Settings(), {"RAY_AUTH_MODE": "token"})["RAY_AUTH_MODE"] == "token"
    environ = {"RAY_AUTH_MODE": "token"}
    apply_ray_environment(Settings(), environ)
    assert environ["RAY_AUTH_MODE"] == "token"


def test_every_child_of_the_stack_gets_the_ray_variables(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    env = child_env(settings, base={"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"})
    assert {k: env[k] for k in ray_environment(settings)} == ray_environment(settings)


def test_apply_sets_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "ray._private.ray_constants", raising=False)
    environ: dict[str, str] = {"KEEP": "1"}
    apply_ray_environment(Settings(), environ)
    assert environ == {"KEEP": "1", **ray_environment(Settings())}


@pytest.mark.parametrize(("imported_with", "settings"), [(True, Settings()), (False, Settings(ray_address="h:1"))])
def test_apply_refuses_when_ray_was_imported_with_the_other_address_choice(
    monkeypatch: pytest.MonkeyPatch, imported_with: bool, settings: Settings
) -> None:
    # Ray reads the variable once, at import: setting it afterwards would change nothing.
    constants = types.SimpleNamespace(ENABLE_RAY_CLUSTER=imported_with)
    monkeypatch.setitem(sys.modules, "ray._private.ray_constants", constants)
    with pytest.raises(StackError, match=r"before the first `import ray`"):
        apply_ray_environment(settings, {})


def test_apply_accepts_ray_imported_with_the_same_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    constants = types.SimpleNamespace(ENABLE_RAY_CLUSTER=False)
    monkeypatch.setitem(sys.modules, "ray._private.ray_constants", constants)
    environ: dict[str, str] = {}
    apply_ray_environment(Settings(), environ)
    assert environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"


def test_head_command_sets_every_port_and_bounds_the_object_store(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "d", ports=free_ports(), ray_object_store_mb=100)
    command = ray_launch_command(settings, "ray", cpus=2)
    assert command[:4] == ("ray", "start", "--head", "--block")  # foreground: supervised like the others
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in command if "=" in arg)
    assert flags == {
        "port": str(settings.ports.ray),
        "ray-client-server-port": str(settings.ports.ray_client),
        # Ray's default worker range 10002-19999 holds the stack's own default ports.
        "min-worker-port": "0",
        "max-worker-port": "0",
        "num-cpus": "2",
        "object-store-memory": str(100 * 1024 * 1024),
        "include-dashboard": "false",
        "include-log-monitor": "false",
        "temp-dir": str(ray_temp_dir(settings)),
    }
    assert "--disable-usage-stats" in command


def test_ray_temp_dir_is_under_the_data_dir_when_its_sockets_fit(tmp_path: Path) -> None:
    short = Settings(data_dir=Path("/srv/bp"))
    assert ray_temp_dir(short) == Path("/srv/bp/ray")
    long_dir = tmp_path / ("x" * 60)
    fallback = ray_temp_dir(Settings(data_dir=long_dir))
    # Ray's sockets live 64 bytes below it, and a unix socket path has at most 107.
    assert len(str(fallback)) + 64 <= 107
    assert fallback == ray_temp_dir(Settings(data_dir=long_dir))  # the same folder every start
    assert fallback != ray_temp_dir(Settings(data_dir=tmp_path / ("y" * 60)))
