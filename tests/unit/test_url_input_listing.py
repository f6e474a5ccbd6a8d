"""Azure Blob Storage folder URLs (the data of Azure's own samples) are listed with List Blobs, page by page.

The Azure service is faked by an ``httpx.MockTransport`` answering its documented XML.
"""

from __future__ import annotations

import httpx

from batchpoint.management.url_inputs import list_blob_folder

_PAGE = """<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ContainerName="data"><Blobs>{blobs}</Blobs><NextMarker>{marker}</NextMarker></EnumerationResults>"""


def _blob(name: str) -> str:
    return f"<Blob><Name>{name}</Name><Properties/></Blob>"


def test_a_blob_folder_is_listed_across_pages() -> None:
    asked: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        assert request.url.params["restype"] == "container"
        assert request.url.params["comp"] == "list"
        assert request.url.params["prefix"] == "heart-disease-uci/data/"
        if request.url.params.get("marker") == "page2":
            return httpx.Response(200, text=_PAGE.format(blobs=_blob("heart-disease-uci/data/b.csv"), marker=""))
        blobs = _blob("heart-disease-uci/data/a.csv") + _blob("heart-disease-uci/data/sub/")
        return httpx.Response(200, text=_PAGE.format(blobs=blobs, marker="page2"))

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        found = list_blob_folder(
            "inputs.input.path", client, "https://azuremlexampledata.blob.core.windows.net/data/heart-disease-uci/data"
        )
    base = "https://azuremlexampledata.blob.core.windows.net/data"
    assert found == [
        (f"{base}/heart-disease-uci/data/a.csv", "a.csv"),
        (f"{base}/heart-disease-uci/data/b.csv", "b.csv"),
    ]
    assert len(asked) == 2
