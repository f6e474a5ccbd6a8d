"""The MLflow no-code scorer: a scoring script run by batchpoint's own interpreter via ``script_driver.py``.

``init()`` loads the MLflow model under ``AZUREML_MODEL_DIR`` (Azure's layout: exactly one subfolder
holding ``MLmodel``), with native thread pools limited to one thread, since a job runs one worker per core.

``batchpoint_run(files, result_path)`` (the driver's protocol extension) scores local CSV/Parquet files
with ``score_mini_batch``: read, cast to the model's signature, predicted all at once, one file at a time
if that fails. It writes the predictions (the prediction column(s), then ``file``: the input's base
name) as an Arrow IPC *stream* at ``result_path`` and returns one outcome per input file, in input order::

    {"items": files scored, "files": [{"path", "rows", "error"}, ...], "format": "arrow", "result_path": p}

``items`` counts the files scored, so failed items are failed files. When no file gave a row (all
failed, or only header-only files) nothing is written and ``result_path`` is ``None``: there is no
schema to write, and an absent file cannot be mistaken for predictions.

``run(mini_batch)`` makes this a valid Azure-style script too: the same predictions as a DataFrame,
each file that failed logged as an error (Azure's accounting then counts it as missing rows).

Only the standard library is imported with the module; mlflow, pandas and pyarrow load in ``init()``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchpoint.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from batchpoint.scoring.results import MiniBatchResult
    from batchpoint.scoring.signature import InputSignature
    from batchpoint.storage.port import ObjectInfo

MLMODEL = "MLmodel"
MODEL_LAYOUT = "AZUREML_MODEL_DIR/<folder>/MLmodel"
ARROW_FORMAT = "arrow"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    """What ``init()`` loaded: the pyfunc model, its input signature (``None``: MLflow's own checks) and folder."""

    model: Any
    signature: InputSignature | None
    path: Path


_loaded: LoadedModel | None = None


def model_folder(model_dir: Path) -> Path:
    """The one subfolder of ``model_dir`` holding ``MLmodel``; ``ModelError`` saying what was found otherwise."""
    if not model_dir.is_dir():
        raise ModelError(f"AZUREML_MODEL_DIR {model_dir} is not a folder; expected {MODEL_LAYOUT}")
    found = sorted(p for p in model_dir.iterdir() if (p / MLMODEL).is_file())
    if len(found) != 1:
        what = (
            "no subfolder holds" if not found else f"{len(found)} subfolders ({', '.join(p.name for p in found)}) hold"
        )
        raise ModelError(f"{model_dir}: {what} an MLmodel file; an MLflow model is laid out as {MODEL_LAYOUT}")
    return found[0]


def init() -> None:
    """Find and load the model once per worker process, with one thread per native library."""
    global _loaded  # noqa: PLW0603 -- per-process state is what init() is for
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir:
        raise ModelError(f"AZUREML_MODEL_DIR is not set; it must name the folder laid out as {MODEL_LAYOUT}")
    folder = model_folder(Path(model_dir))
    from batchpoint.scoring.worker_config import THREAD_LIMITS

    # The parent normally passes these already; a deployment's own environment_variables win.
    for name, value in THREAD_LIMITS.items():
        os.environ.setdefault(name, value)
    import mlflow.pyfunc
    import pyarrow as pa
    from threadpoolctl import threadpool_limits

    from batchpoint.models.mlflow_models import read_signature

    pa.set_cpu_count(1)
    # The dependency check costs ~2 s and only warns; loading fails loudly when requirements do not fit.
    model = mlflow.pyfunc.load_model(str(folder), suppress_warnings=True)
    # The variables only reach libraries loaded after they were set; limit every pool loaded by now too.
    threadpool_limits(limits=1)
    _loaded = LoadedModel(model, read_signature(folder), folder)


def batchpoint_run(files: list[str], result_path: str | None) -> dict[str, Any]:
    """Score ``files``; predictions to ``result_path`` as an Arrow IPC stream; one outcome per file."""
    result = score_files(files)
    written: str | None = None
    if result_path is not None and result.predictions is not None and result.predictions.num_rows:
        write_arrow_stream(result.predictions, Path(result_path))
        written = result_path
    return {
        "items": sum(f.ok for f in result.files),
        "files": [{"path": f.key, "rows": f.rows, "error": f.error} for f in result.files],
        "format": ARROW_FORMAT,
        "result_path": written,
    }


def run(mini_batch: list[str]) -> pd.DataFrame:
    """Azure's entry point: the predictions of ``mini_batch`` (prediction column(s), then ``file``)."""
    import pandas as pd

    result = score_files([str(path) for path in mini_batch])
    for failed in result.failed:
        log.error("%s: %s", failed.key, failed.error)
    return pd.DataFrame() if result.predictions is None else result.predictions.to_pandas()


def score_files(files: list[str]) -> MiniBatchResult:
    """Score local files with the loaded model; every failure is recorded per file, none raised."""
    from batchpoint.scoring.mini_batch import score_mini_batch
    from batchpoint.scoring.planning import MiniBatch

    if _loaded is None:
        raise ModelError("init() did not run in this worker")
    mini_batch = MiniBatch(0, tuple(local_object(path) for path in files))
    return score_mini_batch(mini_batch, fetch=read_local, predict=_loaded.model.predict, signature=_loaded.signature)


def local_object(path: str) -> ObjectInfo:
    """A local file as the store-shaped ``ObjectInfo`` scoring takes: no bucket, the path as key."""
    from batchpoint.storage.port import ObjectInfo

    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # reading it fails in turn, and fails only this file, with the reason
    return ObjectInfo(bucket="", key=path, etag="", size=size)


def read_local(info: ObjectInfo) -> bytes:
    """The content of a local file named by ``local_object``."""
    return Path(info.key).read_bytes()


def write_arrow_stream(table: pa.Table, path: Path) -> None:
    """Write ``table`` as an Arrow IPC stream, to a temporary name then renamed (never half a file)."""
    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(partial, path)
