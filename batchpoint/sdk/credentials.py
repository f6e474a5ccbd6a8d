"""``DefaultAzureCredential``: a stand-in that carries batchpoint's API token.

``DefaultAzureCredential()`` finds the token like ``MLClient`` does (``BATCHPOINT_API_TOKEN``, then
``~/.batchpoint/config.json``); ``DefaultAzureCredential(token="...")`` sets it. Azure's keyword
arguments (``exclude_*_credential`` ...) are accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.connection import Connection


class DefaultAzureCredential:
    """Holds the bearer secret for the batchpoint API (empty when none is configured)."""

    def __init__(self, *, token: str | None = None, **azure_options: Any) -> None:
        self.token = token or Connection.resolve().token or None

    def get_token(self, *scopes: str, **kwargs: Any) -> str | None:
        """The bearer secret (Azure returns an ``AccessToken``; the secret is all there is here)."""
        return self.token


AzureCliCredential = DefaultAzureCredential
InteractiveBrowserCredential = DefaultAzureCredential
