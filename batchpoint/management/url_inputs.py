"""An invoked job's ``https://`` input (Azure ``uri_file`` / ``uri_folder`` on a public URL), copied
into the datastore when the job is invoked.

The API fetches, not the run: the job then scores an ``s3://`` snapshot taken at invoke, like a
local path uploaded by the CLI, so a re-run scores the same files, a bad URL is refused at once
(422 naming the input) instead of failing a run later, and the scoring path stays S3-only.

A folder URL is listed the two ways public folders are served: an Azure Blob Storage container
(``https://<account>.blob.core.windows.net/<container>/<prefix>``, listed with its public List
Blobs call, as Azure's own samples' data is) or an HTML index page of links (a web server's
directory listing), followed into sub-folders under the same URL.

A host on a loopback or private address is refused unless ``Settings.input_url_private_hosts``
names it: the API fetching a URL a caller chose must not become a way to read the stack's own
services.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from batchpoint.config import Settings
from batchpoint.errors import LimitExceededError, SpecError
from batchpoint.specs.job import InputType, JobInput
from batchpoint.storage.port import ObjectStore

FETCHED = "fetched"
URL_FORM = "a public `https://` URL of a file (uri_file) or of a folder listing (uri_folder)"
_MAX_FILES = 10_000
_MAX_DEPTH = 8
_TIMEOUT_S = 60.0
_PRIVATE_SETTING = "BATCHPOINT_INPUT_URL_PRIVATE_HOSTS"


def is_url(path: str) -> bool:
    """Whether an input path is an ``http(s)://`` URL (fetched at invoke)."""
    return path.startswith(("https://", "http://"))


def fetch_url_input(field: str, given: JobInput, store: ObjectStore, settings: Settings) -> JobInput:
    """Copy the file or folder at ``given.path`` into ``s3://<output bucket>/fetched/<id>/``; the input there."""
    url = given.path
    _check_host(field, url, settings)
    bucket = settings.output_bucket
    prefix = f"{FETCHED}/{uuid.uuid4().hex[:12]}/"
    store.ensure_bucket(bucket)
    with httpx.Client(follow_redirects=True, timeout=_TIMEOUT_S) as client:
        fetcher = _Fetcher(field, client, store, bucket, settings.api_max_upload_bytes)
        if given.type is InputType.URI_FILE:
            name = _file_name(url)
            fetcher.copy(url, prefix + name)
            return JobInput(type=InputType.URI_FILE, path=f"s3://{bucket}/{prefix}{name}")
        files = list_blob_folder(field, client, url) if _is_azure_blob(url) else list_html_folder(field, client, url)
        if not files:
            raise SpecError(field, f"{url} lists no files", URL_FORM)
        for file_url, relative in files:
            fetcher.copy(file_url, prefix + relative)
    return JobInput(type=InputType.URI_FOLDER, path=f"s3://{bucket}/{prefix}")


class _Fetcher:
    """Streams files into the store, counting bytes against the upload limit."""

    def __init__(self, field: str, client: httpx.Client, store: ObjectStore, bucket: str, limit: int) -> None:
        self.field, self.client, self.store, self.bucket, self.limit = field, client, store, bucket, limit
        self.total = 0

    def copy(self, url: str, key: str) -> None:
        chunks: list[bytes] = []
        with self.client.stream("GET", url) as response:
            _raise_for(self.field, url, response)
            for chunk in response.iter_bytes():
                self.total += len(chunk)
                if self.total > self.limit:
                    raise LimitExceededError(
                        self.field,
                        f"{url} holds more than the upload limit",
                        limit=self.limit,
                        setting="BATCHPOINT_API_MAX_UPLOAD_BYTES",
                    )
                chunks.append(chunk)
        self.store.put_bytes(self.bucket, key, b"".join(chunks))


def _raise_for(field: str, url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise SpecError(field, f"{url} answered HTTP {response.status_code}", URL_FORM)


def _file_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    return name or "input"


def _check_host(field: str, url: str, settings: Settings) -> None:
    host = urlsplit(url).hostname
    if not host:
        raise SpecError(field, f"{url} names no host", URL_FORM)
    if host in {h.strip() for h in settings.input_url_private_hosts.split(",") if h.strip()}:
        return
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise SpecError(field, f"{url}: host {host!r} cannot be resolved ({exc})", URL_FORM) from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
            raise SpecError(
                field,
                f"{url} is on a private address ({address})",
                f"a public URL (or list the host in {_PRIVATE_SETTING})",
            )


# ---- folder listings ---------------------------------------------------------------------------
def _is_azure_blob(url: str) -> bool:
    return (urlsplit(url).hostname or "").endswith(".blob.core.windows.net")


def list_blob_folder(field: str, client: httpx.Client, url: str) -> list[tuple[str, str]]:
    """Files under an Azure Blob Storage folder URL, by its public List Blobs call (paged by marker)."""
    parts = urlsplit(url)
    container, _, prefix = parts.path.lstrip("/").partition("/")
    prefix = unquote(prefix).rstrip("/") + "/" if prefix.strip("/") else ""
    base = f"{parts.scheme}://{parts.netloc}/{container}"
    found: list[tuple[str, str]] = []
    marker = ""
    while True:
        params = {"restype": "container", "comp": "list", "prefix": prefix}
        if marker:
            params["marker"] = marker
        response = client.get(base, params=params)
        _raise_for(field, url, response)
        root = ET.fromstring(response.content)  # noqa: S314 -- Azure's XML answer; no entities are expanded
        for name in (b.findtext("Name") or "" for b in root.iter("Blob")):
            if name and not name.endswith("/"):
                found.append((f"{base}/{name}", name[len(prefix) :]))
        marker = root.findtext("NextMarker") or ""
        if not marker or len(found) > _MAX_FILES:
            return found[:_MAX_FILES]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def list_html_folder(field: str, client: httpx.Client, url: str) -> list[tuple[str, str]]:
    """Files under a folder URL served as an HTML index of links; a URL that is a file is that one file."""
    root = url if url.endswith("/") else url + "/"
    found: list[tuple[str, str]] = []
    pending = [(root, 0)]
    seen = {root}
    while pending and len(found) < _MAX_FILES:
        folder, depth = pending.pop(0)
        response = client.get(folder)
        if response.status_code >= 400 and folder == root:  # maybe the URL names a file
            response = client.get(url)
            _raise_for(field, url, response)
            return [(url, _file_name(url))]
        _raise_for(field, folder, response)
        if "html" not in response.headers.get("content-type", ""):
            if folder == root:
                return [(url, _file_name(url))]
            continue
        links = _Links()
        links.feed(response.text)
        for href in links.hrefs:
            target = urljoin(folder, href).split("#")[0].split("?")[0]
            if not target.startswith(root) or target in seen or target == folder:
                continue  # parent folders, sorting links, other sites
            seen.add(target)
            if target.endswith("/"):
                if depth + 1 < _MAX_DEPTH:
                    pending.append((target, depth + 1))
            else:
                found.append((target, unquote(target[len(root) :])))
    return found
