"""Azure notebook forms the SDK takes as ``azure.ai.ml`` / ``azure.identity`` do: every credential
class, and plain dicts assigned where an entity is expected."""

from __future__ import annotations

import pytest

import batchpoint.sdk as sdk
from batchpoint.errors import SpecError
from batchpoint.sdk import credentials
from batchpoint.sdk.entities import BatchEndpoint, ModelBatchDeployment, ModelBatchDeploymentSettings
from batchpoint.specs.deployment import BatchDeployment as DeploymentSpec
from batchpoint.specs.endpoint import BatchEndpoint as EndpointSpec

# What azure.identity exports (its __all__) plus get_bearer_token_provider.
AZURE_IDENTITY = [
    "AuthenticationRecord",
    "AuthenticationRequiredError",
    "AuthorizationCodeCredential",
    "AzureAuthorityHosts",
    "AzureCliCredential",
    "AzureDeveloperCliCredential",
    "AzurePipelinesCredential",
    "AzurePowerShellCredential",
    "CertificateCredential",
    "ChainedTokenCredential",
    "ClientAssertionCredential",
    "ClientSecretCredential",
    "CredentialUnavailableError",
    "DefaultAzureCredential",
    "DeviceCodeCredential",
    "EnvironmentCredential",
    "InteractiveBrowserCredential",
    "KnownAuthorities",
    "ManagedIdentityCredential",
    "OnBehalfOfCredential",
    "SharedTokenCacheCredential",
    "TokenCachePersistenceOptions",
    "UsernamePasswordCredential",
    "VisualStudioCodeCredential",
    "WorkloadIdentityCredential",
    "get_bearer_token_provider",
]

CONSTRUCTED = [
    ("DefaultAzureCredential", (), {"exclude_interactive_browser_credential": False}),
    ("AzureCliCredential", (), {}),
    ("InteractiveBrowserCredential", (), {"tenant_id": "t"}),
    ("DeviceCodeCredential", (), {"client_id": "c"}),
    ("ManagedIdentityCredential", (), {"client_id": "c"}),
    ("ClientSecretCredential", ("tenant", "client", "secret"), {}),
    ("CertificateCredential", ("tenant", "client", "cert.pem"), {}),
    ("UsernamePasswordCredential", ("client", "user", "password"), {}),
    ("EnvironmentCredential", (), {}),
    ("AzurePowerShellCredential", (), {}),
    ("WorkloadIdentityCredential", (), {"tenant_id": "t", "client_id": "c", "token_file_path": "/x"}),
]


@pytest.mark.parametrize("name", AZURE_IDENTITY)
def test_every_azure_identity_name_is_importable_from_the_sdk(name: str) -> None:
    assert name in sdk.__all__
    assert getattr(sdk, name) is getattr(credentials, name)


@pytest.mark.parametrize(("name", "args", "kwargs"), CONSTRUCTED)
def test_credentials_take_azures_arguments_and_carry_the_batchpoint_token(
    name: str, args: tuple[str, ...], kwargs: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHPOINT_API_TOKEN", "bp-secret")
    credential = getattr(sdk, name)(*args, **kwargs)
    # Azure notebooks call get_token to check the login before building MLClient.
    access = credential.get_token("https://management.azure.com/.default")
    assert access.token == "bp-secret"
    assert access.expires_on > 0
    assert credentials.token_of(credential) == "bp-secret"
    assert sdk.MLClient(credential, "sub", "rg", "ws", endpoint="http://127.0.0.1:1")._transport.connection.token == (
        "bp-secret"
    )


def test_an_explicit_token_wins_and_a_chain_takes_its_first_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCHPOINT_API_TOKEN", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    assert sdk.DefaultAzureCredential().get_token("scope").token == ""
    chain = sdk.ChainedTokenCredential(sdk.ManagedIdentityCredential(), sdk.AzureCliCredential(token="t2"))
    assert chain.get_token().token == "t2"
    assert sdk.get_bearer_token_provider(chain, "scope")() == "t2"
    with sdk.InteractiveBrowserCredential(token="t3") as credential:
        assert credential.get_token_info("scope").token == "t3"


def test_endpoint_defaults_assigned_as_a_dict_work_as_in_azure() -> None:
    endpoint = BatchEndpoint(name="heart")
    endpoint.defaults = {}
    endpoint.defaults["deployment_name"] = "xgb"
    assert endpoint._to_dict()["defaults"] == {"deployment_name": "xgb"}
    EndpointSpec.model_validate(endpoint._to_dict())
    # Read back the other way round too: the entity takes item access.
    endpoint.defaults = endpoint.defaults if isinstance(endpoint.defaults, dict) else {}
    built = BatchEndpoint(name="heart", defaults={"deployment_name": "a"})
    built.defaults["deployment_name"] = "b"
    assert built._to_dict()["defaults"] == {"deployment_name": "b"}
    assert BatchEndpoint(name="h", default_deployment_name="c")._to_dict()["defaults"] == {"deployment_name": "c"}


def test_an_unknown_defaults_key_names_the_valid_ones() -> None:
    endpoint = BatchEndpoint(name="heart", defaults={"deployment": "x"})
    with pytest.raises(SpecError) as caught:
        endpoint._to_dict()
    assert caught.value.field == "BatchEndpoint.defaults"
    assert "deployment_name" in caught.value.valid_form


def test_deployment_parts_assigned_as_dicts_become_the_spec() -> None:
    deployment = ModelBatchDeployment(name="dep", endpoint_name="heart", model="azureml:m:1")
    deployment.settings = {"mini_batch_size": 5, "retry_settings": {"max_retries": 2}}
    deployment.code_configuration = {"code": "src", "scoring_script": "score.py"}
    deployment.resources = {"instance_count": 2}
    deployment.retry_settings = {"max_retries": 4, "timeout": 60}
    assert isinstance(deployment.settings, ModelBatchDeploymentSettings)
    spec = deployment._to_dict()
    assert spec["settings"] == {"mini_batch_size": 5, "retry_settings": {"max_retries": 4, "timeout": 60}}
    assert spec["code_configuration"] == {"code": "src", "scoring_script": "score.py"}
    assert spec["resources"] == {"instance_count": 2}
    DeploymentSpec.model_validate(spec)
