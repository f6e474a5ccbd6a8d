"""The S3 folders batchpoint watches (landing folders) and writes (outputs, code, uploads); no overlap between them.

A job's outputs inside a landing folder are scored as inputs of another month (or dead-lettered as
files outside a month folder) and move that month's ``latest``; a landing folder over batchpoint's
own folders in the output bucket does the same with every output written there. So both are
refused when they are given, naming the field:

- ``output_path`` at invoke: may not lie inside, nor contain, any endpoint's landing folder;
- ``data_arrival`` at endpoint create/update: may not lie inside, nor contain, a folder batchpoint
  writes in the output bucket (``<endpoint>/`` of every endpoint, ``code/``, ``uploads/``,
  ``.batchpoint/``);
- ``name`` at endpoint create: its output folder ``<output bucket>/<name>/`` may not overlap
  another endpoint's landing folder.

Landing folders of two endpoints may overlap (the longest prefix wins, see ``routing``). Outputs a
job already wrote are not looked up: a new landing folder over an old job's ``output_path`` sees those
files as inputs, like any other file already there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from batchpoint.errors import SpecError
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.s3_uri import split_s3_uri

OWN_FOLDERS = ("code/", "uploads/", ".batchpoint/")
"""Folders of the output bucket that batchpoint writes besides the endpoints' ``<endpoint>/``."""
OUTPUT_FORM = (
    "an `s3://<bucket>/<prefix>/` folder outside every endpoint's landing folder "
    "(left out, the job writes to `s3://<output bucket>/<endpoint>/jobs/<job name>/`)"
)
LANDING_FORM = (
    "a landing folder that holds no output of batchpoint: another bucket than the output bucket, "
    "or a prefix there that is no endpoint's name and not code/, uploads/ or .batchpoint/"
)


@dataclass(frozen=True)
class Folder:
    """``s3://bucket/prefix`` with ``prefix`` empty (the bucket) or ending with ``/``."""

    bucket: str
    prefix: str

    @classmethod
    def of(cls, uri: str) -> Folder:
        """The folder an ``s3://`` URI names (a ``/`` appended to its key when missing)."""
        bucket, key = split_s3_uri(uri)
        return cls(bucket, key if not key or key.endswith("/") else key + "/")

    def inside(self, other: Folder) -> bool:
        """Whether every key of this folder is also a key of ``other`` (the same folder included)."""
        return self.bucket == other.bucket and self.prefix.startswith(other.prefix)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def landing_folder(endpoint: BatchEndpoint) -> Folder | None:
    """The folder ``endpoint`` watches, if it has a data-arrival trigger."""
    trigger = endpoint.data_arrival
    return Folder(trigger.bucket, trigger.prefix) if trigger else None


def _relation(folder: Folder, other: Folder) -> str | None:
    if folder.inside(other):
        return "lies inside"
    if other.inside(folder):
        return "contains"
    return None


def check_output_path(output_path: str, endpoints: Iterable[BatchEndpoint]) -> None:
    """Refuse an ``output_path`` that overlaps a landing folder (``SpecError`` naming ``output_path``)."""
    output = Folder.of(output_path)
    for endpoint in endpoints:
        landing = landing_folder(endpoint)
        relation = _relation(output, landing) if landing else None
        if relation:
            problem = (
                f"{output} {relation} the landing folder {landing} of endpoint {endpoint.name!r}: "
                "the job's outputs would be scored as that endpoint's inputs"
            )
            raise SpecError("output_path", problem, OUTPUT_FORM)


def check_endpoint_folders(endpoint: BatchEndpoint, others: Iterable[BatchEndpoint], output_bucket: str) -> None:
    """Refuse an endpoint whose landing folder overlaps a folder batchpoint writes, or the reverse."""
    others = [e for e in others if e.name != endpoint.name]
    written = [(f"batchpoint's {p} folder", Folder(output_bucket, p)) for p in OWN_FOLDERS]
    for e in [endpoint, *others]:
        written.append((f"the outputs of endpoint {e.name!r}", Folder(output_bucket, f"{e.name}/")))
    landing = landing_folder(endpoint)
    for what, folder in written:
        relation = _relation(landing, folder) if landing else None
        if relation:
            problem = f"{landing} {relation} {folder}, {what}: they would be scored as new inputs"
            raise SpecError("data_arrival.prefix", problem, LANDING_FORM)
    own_outputs = Folder(output_bucket, f"{endpoint.name}/")
    for other in others:
        watched = landing_folder(other)
        relation = _relation(own_outputs, watched) if watched else None
        if relation:
            problem = (
                f"the endpoint's outputs {own_outputs} would be written where endpoint {other.name!r} "
                f"watches ({watched}) and be scored as its inputs"
            )
            raise SpecError("name", problem, "a name that is not the first folder of another endpoint's landing folder")
