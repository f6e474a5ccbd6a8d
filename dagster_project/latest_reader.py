"""A month's ``latest`` inputs as the sensors read them: the pointer each time, each manifest once."""

from __future__ import annotations

from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import load_manifest, read_latest
from batchpoint.storage.port import ObjectStore
from batchpoint.triggers.reconciliation import LatestInputs


class LatestReader:
    """Reads a month's ``latest`` pointer each time, its version's manifest once (manifests never change)."""

    def __init__(self, store: ObjectStore, bucket: str) -> None:
        self._store = store
        self._bucket = bucket
        self._known: dict[tuple[str, str], LatestInputs] = {}

    def read(self, endpoint: str, month: str) -> LatestInputs | None:
        """What ``latest`` of ``endpoint``/``month`` scored; ``None`` when there is no ``latest``."""
        layout = OutputLayout(self._bucket, endpoint, month)
        pointer = read_latest(self._store, layout)
        if pointer is None:
            return None
        known = self._known.get((endpoint, month))
        if known is None or known.version_id != pointer.version_id:
            known = LatestInputs.of(pointer.version_id, load_manifest(self._store, layout, pointer.version_id))
            self._known[(endpoint, month)] = known
        return known
