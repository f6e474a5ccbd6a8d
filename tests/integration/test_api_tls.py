"""`python -m batchpoint.api` serves HTTPS with a certificate from BATCHPOINT_TLS_CERT / BATCHPOINT_TLS_KEY."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.stack import free_ports

START_TIMEOUT_S = 30.0


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "api.crt", folder / "api.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Settings, Path]]:
    cert, key = _self_signed(tmp_path)
    settings = dataclasses.replace(
        Settings(), data_dir=tmp_path / "data", ports=free_ports(), tls_cert=str(cert), tls_key=str(key)
    )
    env = {**os.environ, **settings.to_env()}
    process = subprocess.Popen(
        [sys.executable, "-m", "batchpoint.api"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_healthy(f"https://127.0.0.1:{settings.ports.api}/v1/health", cert, process)
        yield settings, cert
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
        if process.returncode not in (0, -15):
            print(output.decode(errors="replace"))


def _wait_healthy(url: str, cert: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the API exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(url, verify=ssl.create_default_context(cafile=str(cert)), timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} not healthy within {START_TIMEOUT_S} s")


def test_the_api_answers_over_https_with_the_configured_certificate(tls_server: tuple[Settings, Path]) -> None:
    settings, cert = tls_server
    base = f"https://127.0.0.1:{settings.ports.api}"
    assert httpx.get(f"{base}/v1/health", verify=ssl.create_default_context(cafile=str(cert))).json() == {
        "status": "ok"
    }
    assert httpx.get(f"{base}/v1/computes", verify=ssl.create_default_context(cafile=str(cert))).status_code == 401
    workspace = Workspace(settings)
    try:
        _, secret = workspace.tokens.create("tls-test")
    finally:
        workspace.close()
    answer = httpx.get(
        f"{base}/v1/computes",
        verify=ssl.create_default_context(cafile=str(cert)),
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.json() == {"value": []}


def test_plain_http_and_unverified_certificates_get_nothing(tls_server: tuple[Settings, Path]) -> None:
    settings, _ = tls_server
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{settings.ports.api}/v1/health", timeout=5.0)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://127.0.0.1:{settings.ports.api}/v1/health", timeout=5.0)


def test_a_certificate_without_its_key_is_refused_at_start(tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    env = {**os.environ, "BATCHPOINT_DATA_DIR": str(tmp_path), "BATCHPOINT_TLS_CERT": str(cert)}
    env.pop("BATCHPOINT_TLS_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "batchpoint.api"], check=False, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert b"BATCHPOINT_TLS_CERT: is set alone (expected both BATCHPOINT_TLS_CERT and BATCHPOINT_TLS_KEY" in done.stderr
