"""The MLflow no-code scorer: the scoring script ``script_driver.py`` runs for a deployment with no code.

Standalone on purpose: it runs in the model's own environment (another Python, MLflow 2.x or 3.x,
old pandas / numpy / pyarrow), where batchpoint is not importable. This file and its siblings in
``builtin/`` (``file_scoring``, ``input_tables``, ``text_excerpts``, ``worker_config``) import only
the standard library with the module; mlflow, pandas, numpy and pyarrow (10 on) load inside functions.
Python 3.8 on. ``script_driver.py`` puts this folder first on ``sys.path``, so the siblings import as
top-level modules there; imported as part of batchpoint they are ``batchpoint.scoring.builtin.*``.

Contract, on the driver's protocol (``script_driver.py``):

- ``init()`` loads the MLflow model under ``AZUREML_MODEL_DIR`` (Azure's layout: exactly one subfolder
  holding ``MLmodel``; ``ModelLayoutError`` saying what was found otherwise) with ``mlflow.pyfunc``,
  after limiting native thread pools to one thread (``worker_config.THREAD_LIMITS`` where the
  variables are unset, ``pyarrow.set_cpu_count(1)``, ``threadpoolctl`` where installed), since a job
  runs one worker per core. It reads the model's input signature from ``MLmodel`` with MLflow's own
  API (``read_signature``); a signature of column types outside ``input_tables.COLUMN_TYPES``, or of
  tensors, is left to MLflow's own enforcement.
- ``batchpoint_run(files, result_path)`` (the driver's protocol extension) scores local CSV/Parquet
  files with ``file_scoring.score_files``: read, cast to the signature, predicted all at once, one
  file at a time if that fails. It writes the predictions (the prediction column(s), then ``file``:
  the input's base name) as an Arrow IPC *stream* at ``result_path`` and returns one outcome per
  input file, in input order::

      {"items": files scored, "files": [{"path", "rows", "error"}, ...], "format": "arrow", "result_path": p}

  ``items`` counts the files scored, so failed items are failed files. When no file gave a row (all
  failed, or only header-only files), or ``result_path`` is ``None`` (``summary_only``), nothing is
  written and ``result_path`` is ``None``: there is no schema to write, and an absent file cannot be
  mistaken for predictions.
- ``batchpoint_run_group(members)`` (the driver's grouped request): several mini-batches, each
  ``(files, result_path)``, read and predicted as one (one ``predict`` call amortises its fixed
  cost over more rows), then split back: one answer per member, of ``batchpoint_run``'s shape, and
  each member's rows (a zero-copy slice) in its own Arrow stream. A file's outcome does not depend
  on the files it was grouped with: a failing call falls back to one file at a time, as for one
  mini-batch.
- ``run(mini_batch)`` makes this a valid Azure-style script too: the same predictions as a DataFrame,
  each file that failed logged as an error (Azure's accounting then counts it as missing rows).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from .file_scoring import ScoredFiles, score_files
    from .input_tables import COLUMN_TYPES, ColumnSpec, InputSignature
    from .worker_config import THREAD_LIMITS
else:  # run by script_driver.py from this folder, which it put first on sys.path
    from file_scoring import ScoredFiles, score_files
    from input_tables import COLUMN_TYPES, ColumnSpec, InputSignature
    from worker_config import THREAD_LIMITS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

MLMODEL = "MLmodel"
MODEL_LAYOUT = "AZUREML_MODEL_DIR/<folder>/MLmodel"
ARROW_FORMAT = "arrow"
log = logging.getLogger(__name__)


class ModelLayoutError(Exception):
    """``AZUREML_MODEL_DIR`` is unset or does not hold exactly one MLflow model folder."""


class NotInitialisedError(Exception):
    """A mini-batch came before ``init()`` loaded the model."""


@dataclass(frozen=True)
class LoadedModel:
    """What ``init()`` loaded: the pyfunc model, its input signature (``None``: MLflow's own checks) and folder."""

    model: Any
    signature: InputSignature | None
    path: Path


_loaded: LoadedModel | None = None


def model_folder(model_dir: Path) -> Path:
    """The one subfolder of ``model_dir`` holding ``MLmodel``; ``ModelLayoutError`` saying what was found otherwise."""
    if not model_dir.is_dir():
        raise ModelLayoutError(f"AZUREML_MODEL_DIR {model_dir} is not a folder; expected {MODEL_LAYOUT}")
    found = sorted(p for p in model_dir.iterdir() if (p / MLMODEL).is_file())
    if len(found) != 1:
        what = (
            "no subfolder holds" if not found else f"{len(found)} subfolders ({', '.join(p.name for p in found)}) hold"
        )
        raise ModelLayoutError(f"{model_dir}: {what} an MLmodel file; an MLflow model is laid out as {MODEL_LAYOUT}")
    return found[0]


def init() -> None:
    """Find and load the model once per worker process, with one thread per native library."""
    global _loaded  # noqa: PLW0603 -- per-process state is what init() is for
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir:
        raise ModelLayoutError(f"AZUREML_MODEL_DIR is not set; it must name the folder laid out as {MODEL_LAYOUT}")
    folder = model_folder(Path(model_dir))
    # The parent normally passes these already; a deployment's own environment_variables win.
    for name, value in THREAD_LIMITS.items():
        os.environ.setdefault(name, value)
    import mlflow.pyfunc
    import pyarrow as pa

    pa.set_cpu_count(1)
    # The dependency check costs ~2 s and only warns; loading fails loudly when requirements do not fit.
    model = mlflow.pyfunc.load_model(str(folder), suppress_warnings=True)
    limit_thread_pools()
    _loaded = LoadedModel(model, read_signature(folder), folder)
    warm_up(_loaded)


def warm_up(loaded: LoadedModel) -> None:
    """Score the model's saved input example once, the way a mini-batch is scored.

    The first mini-batch a process scores pays for lazy imports and first calls (the CSV reader,
    MLflow's schema checks, the model's first ``predict``, the Arrow writer); paid here, in
    ``init()``, it is start-up, which a warm pool pays once, not in every job's first mini-batch.
    Best effort: a model without an example, or whose example does not score, is just not warmed.
    """
    import tempfile

    import pandas as pd
    from mlflow.models import Model

    try:
        example = Model.load(str(loaded.path / MLMODEL)).load_input_example(str(loaded.path))
        if not isinstance(example, pd.DataFrame) or not len(example):
            return
        with tempfile.TemporaryDirectory(prefix="batchpoint-warm-up-") as folder:
            path = Path(folder) / "example.csv"
            example.to_csv(path, index=False)
            result = score_files([str(path)], loaded.model.predict, loaded.signature)
            if result.predictions is not None:
                write_arrow_stream(result.predictions, Path(folder) / "example.arrow")
    except Exception as exc:  # warming up is a courtesy: a model that cannot is scored all the same
        log.info("init(): the model's input example did not warm it up: %s: %s", type(exc).__name__, exc)


def limit_thread_pools() -> None:
    """One thread for every native pool loaded by now: the variables only reach libraries loaded later.

    threadpoolctl comes with scikit-learn; an environment without it has no pools it would find.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1)


def read_signature(model_path: Path) -> InputSignature | None:
    """The input signature of the MLflow model in folder ``model_path``, read with MLflow's own API.

    ``None`` when the model has none, or it uses tensors or types outside ``COLUMN_TYPES``: MLflow's
    own enforcement then applies unaided. MLflow before 2.10 has no optional columns: all are required.
    """
    from mlflow.models import Model
    from mlflow.types.schema import ColSpec, DataType

    signature = Model.load(str(model_path / MLMODEL)).signature
    if signature is None or signature.inputs is None or signature.inputs.is_tensor_spec():
        return None
    columns: list[ColumnSpec] = []
    for col in signature.inputs.inputs:
        if not isinstance(col, ColSpec) or col.name is None or not isinstance(col.type, DataType):
            return None
        kind = col.type.name
        if kind not in COLUMN_TYPES:
            return None
        columns.append(ColumnSpec(col.name, kind, bool(getattr(col, "required", True))))
    return InputSignature(tuple(columns))


def batchpoint_run(files: list[str], result_path: str | None) -> dict[str, Any]:
    """Score ``files``; predictions to ``result_path`` as an Arrow IPC stream; one outcome per file."""
    result = score(files)
    written: str | None = None
    if result_path is not None and result.predictions is not None and result.predictions.num_rows:
        write_arrow_stream(result.predictions, Path(result_path))
        written = result_path
    return {
        "items": sum(f.ok for f in result.files),
        "files": [f.to_json() for f in result.files],
        "format": ARROW_FORMAT,
        "result_path": written,
    }


def batchpoint_run_group(members: list[tuple[list[str], str | None]]) -> list[dict[str, Any]]:
    """Score several mini-batches as one; one ``batchpoint_run``-shaped answer per member, in order."""
    result = score([path for files, _ in members for path in files])
    answers: list[dict[str, Any]] = []
    start = offset = 0
    for files, result_path in members:
        outcomes = result.files[start : start + len(files)]
        start += len(files)
        rows = sum(f.rows for f in outcomes if f.ok)
        written: str | None = None
        if result_path is not None and rows and result.predictions is not None:
            write_arrow_stream(result.predictions.slice(offset, rows), Path(result_path))
            written = result_path
        offset += rows
        answers.append(
            {
                "items": sum(f.ok for f in outcomes),
                "files": [f.to_json() for f in outcomes],
                "format": ARROW_FORMAT,
                "result_path": written,
            }
        )
    return answers


def run(mini_batch: list[str]) -> pd.DataFrame:
    """Azure's entry point: the predictions of ``mini_batch`` (prediction column(s), then ``file``)."""
    import pandas as pd

    result = score([str(path) for path in mini_batch])
    for failed in result.failed:
        log.error("%s: %s", failed.path, failed.error)
    return pd.DataFrame() if result.predictions is None else result.predictions.to_pandas()


def score(files: list[str]) -> ScoredFiles:
    """Score local files with the loaded model; every failure is recorded per file, none raised."""
    if _loaded is None:
        raise NotInitialisedError("init() did not run in this worker")
    return score_files(files, _loaded.model.predict, _loaded.signature)


def write_arrow_stream(table: pa.Table, path: Path) -> None:
    """Write ``table`` as an Arrow IPC stream, to a temporary name then renamed (never half a file)."""
    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(partial, path)
