"""A deployment's scoring code, stored in S3 by content: ``s3://<output_bucket>/code/<endpoint>/<deployment>/<sha>/``.

The same folder content always lands under the same digest, so re-applying an unchanged
deployment uploads nothing new and the stored URI says which code a job ran.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from batchpoint.errors import NotFoundError, SpecError
from batchpoint.specs.deployment import CODE_FORMS
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.port import ObjectStore

_SKIPPED = {"__pycache__", ".git", ".ipynb_checkpoints"}


def code_files(folder: Path) -> list[Path]:
    """Files of ``folder`` to upload (caches and VCS folders left out), in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not _SKIPPED & set(p.relative_to(folder).parts))


def folder_digest(folder: Path, files: list[Path]) -> str:
    """SHA-256 over relative paths and contents: the folder's identity."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def store_code(
    code: str, scoring_script: str, *, store: ObjectStore, bucket: str, endpoint: str, deployment: str
) -> str:
    """The S3 URI holding ``code``: uploaded when it is a local folder, checked when already in S3."""
    if code.startswith("s3://"):
        try:
            src_bucket, prefix = split_s3_uri(code)
        except ValueError as exc:
            raise SpecError("code_configuration.code", f"got {code!r}", CODE_FORMS) from exc
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        try:
            store.head(src_bucket, prefix + scoring_script)
        except NotFoundError as exc:
            raise SpecError(
                "code_configuration.scoring_script", f"{scoring_script} is not in {code}", CODE_FORMS
            ) from exc
        return f"s3://{src_bucket}/{prefix}"
    folder = Path(code)
    if not folder.is_dir():
        raise SpecError("code_configuration.code", f"{code} is not a folder", CODE_FORMS)
    if not (folder / scoring_script).is_file():
        raise SpecError(
            "code_configuration.scoring_script",
            f"{scoring_script} is not in {folder}",
            "the script's path relative to code_configuration.code",
        )
    files = code_files(folder)
    prefix = f"code/{endpoint}/{deployment}/{folder_digest(folder, files)}/"
    store.ensure_bucket(bucket)
    for path in files:
        store.upload(path, bucket, prefix + path.relative_to(folder).as_posix())
    return f"s3://{bucket}/{prefix}"
