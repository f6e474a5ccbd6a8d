"""Stand-ins for every ``azure.identity`` credential: each carries batchpoint's API token.

Azure notebooks build a credential and hand it to ``MLClient``; which one they build depends on
where they ran (a laptop, a pipeline, a managed identity). Here there is one kind of secret, the
batchpoint bearer token, so every credential class finds it the same way ``MLClient`` does
(``BATCHPOINT_API_TOKEN``, then ``~/.batchpoint/config.json``), or takes it as ``token="..."``.
Azure's own arguments (tenant, client id, secret, certificate, ``exclude_*_credential`` ...) are
accepted and ignored, so the samples' constructors run unchanged.

``get_token(...)`` returns an ``AccessToken`` as Azure does: notebooks call it to check the login
(``credential.get_token("https://management.azure.com/.default")``) and fall back to an interactive
credential when it raises. It raises nothing here; a missing token surfaces as the API's 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from batchpoint.sdk.connection import Connection

# A token lives as long as the API keeps it; Azure's callers only read expires_on to refresh early.
_NOMINAL_LIFETIME_S = 3600


class AccessToken(NamedTuple):
    """``azure.core.credentials.AccessToken``: the secret and when it nominally expires (epoch seconds)."""

    token: str
    expires_on: int


class AccessTokenInfo(NamedTuple):
    """``azure.core.credentials.AccessTokenInfo`` (``get_token_info``'s answer)."""

    token: str
    expires_on: int
    token_type: str = "Bearer"  # noqa: S105 -- the scheme, not a secret
    refresh_on: int | None = None


class CredentialUnavailableError(Exception):
    """Raised by Azure when a credential cannot authenticate; importable so ``except`` clauses run."""


class AuthenticationRequiredError(CredentialUnavailableError):
    """Raised by Azure when interactive authentication is needed; importable for ``except`` clauses."""


class AuthenticationRecord:
    """What Azure's interactive ``authenticate()`` returns; here it only names the API."""

    def __init__(
        self,
        authority: str = "",
        client_id: str = "",
        home_account_id: str = "",
        tenant_id: str = "",
        username: str = "",
    ) -> None:
        self.authority = authority
        self.client_id = client_id
        self.home_account_id = home_account_id
        self.tenant_id = tenant_id
        self.username = username

    def serialize(self) -> str:
        """Azure persists the record as JSON; so does this."""
        import json

        return json.dumps(vars(self))

    @classmethod
    def deserialize(cls, data: str) -> AuthenticationRecord:
        """The record ``serialize`` wrote."""
        import json

        return cls(**json.loads(data))


class TokenCachePersistenceOptions:
    """Azure's token-cache options: accepted and ignored (the token is not cached by the SDK)."""

    def __init__(self, **options: Any) -> None:
        self.options = options


class AzureAuthorityHosts:
    """Azure's authority host names (for ``authority=`` arguments, which are ignored)."""

    AZURE_CHINA = "login.chinacloudapi.cn"
    AZURE_GERMANY = "login.microsoftonline.de"
    AZURE_GOVERNMENT = "login.microsoftonline.us"
    AZURE_PUBLIC_CLOUD = "login.microsoftonline.com"


KnownAuthorities = AzureAuthorityHosts


class TokenCredential:
    """Holds the bearer secret for the batchpoint API (``None`` when none is configured).

    Positional and keyword arguments of the Azure class of the same name are accepted and ignored;
    ``token=`` sets the secret.
    """

    def __init__(self, *azure_args: Any, token: str | None = None, **azure_options: Any) -> None:
        self.token: str | None = token or Connection.resolve().token or None

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The bearer secret as Azure's ``AccessToken`` (an empty secret when none is configured)."""
        return AccessToken(self.token or "", int(time.time()) + _NOMINAL_LIFETIME_S)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        """The bearer secret as Azure's ``AccessTokenInfo``."""
        return AccessTokenInfo(self.token or "", int(time.time()) + _NOMINAL_LIFETIME_S)

    def authenticate(self, *scopes: str, **kwargs: Any) -> AuthenticationRecord:
        """Azure's interactive credentials log in here; there is nothing to log in to."""
        return AuthenticationRecord()

    def close(self) -> None:
        """Nothing to release (Azure closes its HTTP transport)."""

    def __enter__(self) -> TokenCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DefaultAzureCredential(TokenCredential):
    """``azure.identity.DefaultAzureCredential``."""


class AzureCliCredential(TokenCredential):
    """``azure.identity.AzureCliCredential``."""


class AzureDeveloperCliCredential(TokenCredential):
    """``azure.identity.AzureDeveloperCliCredential``."""


class AzurePowerShellCredential(TokenCredential):
    """``azure.identity.AzurePowerShellCredential``."""


class AzurePipelinesCredential(TokenCredential):
    """``azure.identity.AzurePipelinesCredential``."""


class InteractiveBrowserCredential(TokenCredential):
    """``azure.identity.InteractiveBrowserCredential`` (no browser opens)."""


class DeviceCodeCredential(TokenCredential):
    """``azure.identity.DeviceCodeCredential`` (no device code is asked for)."""


class ManagedIdentityCredential(TokenCredential):
    """``azure.identity.ManagedIdentityCredential``."""


class WorkloadIdentityCredential(TokenCredential):
    """``azure.identity.WorkloadIdentityCredential``."""


class EnvironmentCredential(TokenCredential):
    """``azure.identity.EnvironmentCredential`` (reads ``BATCHPOINT_API_TOKEN``, not ``AZURE_*``)."""


class ClientSecretCredential(TokenCredential):
    """``azure.identity.ClientSecretCredential(tenant_id, client_id, client_secret)``."""


class ClientAssertionCredential(TokenCredential):
    """``azure.identity.ClientAssertionCredential(tenant_id, client_id, func)``."""


class CertificateCredential(TokenCredential):
    """``azure.identity.CertificateCredential(tenant_id, client_id, certificate_path)``."""


class UsernamePasswordCredential(TokenCredential):
    """``azure.identity.UsernamePasswordCredential(client_id, username, password)``."""


class AuthorizationCodeCredential(TokenCredential):
    """``azure.identity.AuthorizationCodeCredential(tenant_id, client_id, authorization_code, redirect_uri)``."""


class OnBehalfOfCredential(TokenCredential):
    """``azure.identity.OnBehalfOfCredential``."""


class SharedTokenCacheCredential(TokenCredential):
    """``azure.identity.SharedTokenCacheCredential``."""


class VisualStudioCodeCredential(TokenCredential):
    """``azure.identity.VisualStudioCodeCredential``."""


class ChainedTokenCredential(TokenCredential):
    """``azure.identity.ChainedTokenCredential(*credentials)``: the first given credential's token."""

    def __init__(self, *credentials: Any, token: str | None = None, **azure_options: Any) -> None:
        self.credentials = credentials
        chained = next((c.token for c in credentials if isinstance(c, TokenCredential) and c.token), None)
        super().__init__(token=token or chained)


def token_of(credential: Any) -> str | None:
    """The bearer secret ``credential`` carries: one of these classes' token, or a string ``token`` attribute."""
    token = getattr(credential, "token", None)
    return token if isinstance(token, str) and token else None


def get_bearer_token_provider(credential: TokenCredential, *scopes: str) -> Callable[[], str]:
    """``azure.identity.get_bearer_token_provider``: a callable returning the bearer secret."""

    def provide() -> str:
        return credential.get_token(*scopes).token

    return provide


__all__ = [
    "AccessToken",
    "AccessTokenInfo",
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
    "TokenCredential",
    "UsernamePasswordCredential",
    "VisualStudioCodeCredential",
    "WorkloadIdentityCredential",
    "get_bearer_token_provider",
]
