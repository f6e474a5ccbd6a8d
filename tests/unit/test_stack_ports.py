"""Port selection and validation of the embedded stack."""

from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path

import pytest

from batchpoint.config import Ports
from batchpoint.errors import PortInUseError
from batchpoint.stack import ports as ports_module
from batchpoint.stack.ports import RESERVATION_SECONDS, SERVICE_PORTS, check_ports, free_ports, port_in_use


def test_free_ports_are_distinct_and_free() -> None:
    ports = free_ports()
    values = [getattr(ports, f.name) for f in dataclasses.fields(Ports)]
    assert len(set(values)) == len(values)
    assert not any(port_in_use("127.0.0.1", p) for p in values)


def _values(ports: Ports) -> set[int]:
    return set(dataclasses.astuple(ports))


def test_no_port_is_handed_out_twice_while_reserved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two test workers each ask for free ports before either stack binds them: the OS alone would
    # be free to give both the same port, the machine-wide reservations never do.
    record = tmp_path / "reservations"
    monkeypatch.setattr(ports_module, "reservations_file", lambda: record)
    first = _values(free_ports())
    seen = set(first)
    for _ in range(20):
        later = _values(free_ports())
        assert not later & seen
        seen |= later
    assert {int(line.split()[0]) for line in record.read_text().splitlines()} == seen


def test_expired_or_unreadable_reservations_are_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "reservations"
    stale = time.time() - RESERVATION_SECONDS - 1
    record.write_text(f"40001 {stale:.0f}\nnot a line\n40002 soon\n40003 {time.time():.0f}\n")
    monkeypatch.setattr(ports_module, "reservations_file", lambda: record)
    handed = _values(free_ports())
    kept = {int(line.split()[0]) for line in record.read_text().splitlines()}
    assert kept == handed | {40003}
    assert 40003 not in handed


def test_free_ports_are_below_the_ephemeral_range() -> None:
    # No other process's bind(0) or outgoing connection can take one while its service is down.
    low, _ = ports_module.ephemeral_range()
    assert all(port < low for port in _values(free_ports()))


def test_every_port_field_belongs_to_a_service() -> None:
    owned = {name for fields in SERVICE_PORTS.values() for name in fields}
    assert owned == {f.name for f in dataclasses.fields(Ports)}


@pytest.mark.parametrize(("service", "field_name"), [("s3", "filer_grpc"), ("kafka", "kafka"), ("dagster", "dagster")])
def test_taken_port_raises_with_its_setting(service: str, field_name: str) -> None:
    ports = free_ports()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", getattr(ports, field_name)))
        blocker.listen()
        with pytest.raises(PortInUseError) as info:
            check_ports("127.0.0.1", ports, ["s3", "kafka", "mlflow", "dagster"])
    assert info.value.service == service
    assert info.value.setting == Ports.setting_name(field_name)
    assert f"{Ports.setting_name(field_name)}=<port>" in str(info.value)


def test_same_port_for_two_services_is_refused() -> None:
    ports = dataclasses.replace(free_ports(), dagster=free_ports().mlflow)
    ports = dataclasses.replace(ports, mlflow=ports.dagster)
    with pytest.raises(PortInUseError) as info:
        check_ports("127.0.0.1", ports, ["mlflow", "dagster"])
    assert info.value.setting == "BATCHPOINT_DAGSTER_PORT"


def test_ports_of_services_not_started_are_not_checked() -> None:
    ports = free_ports()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", ports.mlflow))
        blocker.listen()
        check_ports("127.0.0.1", ports, ["s3", "kafka"])
