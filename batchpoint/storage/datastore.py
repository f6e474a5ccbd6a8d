"""``open_datastore``: the one place the datastore's client is built from ``Settings``.

Every service, run and tool that talks to the datastore opens it here, so the client (endpoint,
credentials, region, and which S3 library) is chosen once.
"""

from __future__ import annotations

from batchpoint.config import Settings
from batchpoint.storage.s3 import S3Store


def open_datastore(settings: Settings) -> S3Store:
    """The datastore at ``settings.s3_url`` with the settings' credentials and region."""
    return S3Store(settings.s3_url, settings.access_key, settings.secret_key, settings.region)
