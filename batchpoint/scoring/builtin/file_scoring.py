"""Scoring one mini-batch of local files with a ``predict`` function; a bad file fails only itself.

Standalone, like ``input_tables.py``: the standard library at import, pandas, numpy and pyarrow
inside the functions; no model library, since the caller hands in ``predict``.

Every file is read (CSV or Parquet, by its name: a ``.txt`` is rejected without being read) and cast
to the signature. The files that gave rows are predicted in one call, because per-call overhead
dominates on small files; if that call fails they are predicted one by one, so one file the model
rejects does not fail the others. A header-only file scores zero rows and is not predicted.

The predictions are the prediction column(s), then ``file``, the input's base name, row for row:
one-dimensional output is the column ``prediction``; a 2-D array gives ``prediction_0..n``; a
DataFrame (or a dict of columns) keeps its column names, made text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from .input_tables import InputFileError, InputSignature, cast_to_signature, file_format, read_table
    from .text_excerpts import excerpt
else:  # run by script_driver.py from this folder, which it put first on sys.path
    from input_tables import InputFileError, InputSignature, cast_to_signature, file_format, read_table
    from text_excerpts import excerpt

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pandas as pd
    import pyarrow as pa

    Predict = Callable[[pd.DataFrame], Any]

FILE_COLUMN = "file"
PREDICTION_COLUMN = "prediction"


@dataclass(frozen=True)
class FileOutcome:
    """One input file's outcome: the rows it gave (0 when it failed), or why it failed.

    Also the parent's view of it (``script_answers.py``): one entry of ``batchpoint_run()``'s ``files``.
    """

    path: str
    rows: int
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the file was scored."""
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """The entry of ``files`` in ``batchpoint_run()``'s answer: ``{"path", "rows", "error"}``."""
        return {"path": self.path, "rows": self.rows, "error": self.error}

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> FileOutcome:
        """Parse one entry of an answer's ``files``."""
        error = message.get("error")
        return cls(str(message["path"]), int(message.get("rows", 0)), None if error is None else str(error))


@dataclass(frozen=True)
class ScoredFiles:
    """One outcome per input file, in input order, and the predictions (``None``: no file gave a row)."""

    files: tuple[FileOutcome, ...]
    predictions: pa.Table | None

    @property
    def failed(self) -> tuple[FileOutcome, ...]:
        """The files that could not be scored."""
        return tuple(f for f in self.files if not f.ok)


@dataclass(frozen=True)
class _Parsed:
    index: int
    name: str
    frame: pd.DataFrame


def score_files(paths: Sequence[str], predict: Predict, signature: InputSignature | None) -> ScoredFiles:
    """Score the local files ``paths``; every failure is recorded per file, none raised.

    ``signature`` ``None`` passes the columns to ``predict`` as read (MLflow's own checks then apply).
    """
    import pyarrow as pa

    errors: dict[int, str] = {}
    parsed: list[_Parsed] = []
    for index, path in enumerate(paths):
        try:
            parsed.append(_Parsed(index, os.path.basename(path), read_input(path, signature)))
        except InputFileError as exc:
            errors[index] = exc.problem
        except Exception as exc:
            errors[index] = f"{type(exc).__name__}: {exc}"
    tables, predict_errors = _predict(parsed, predict)
    errors.update(predict_errors)
    rows = {item.index: len(item.frame) for item in parsed}
    # Parsers quote the row they choke on: a binary file's bytes must not reach the logs.
    files = tuple(
        FileOutcome(path, 0, excerpt(errors[i])) if i in errors else FileOutcome(path, rows[i], None)
        for i, path in enumerate(paths)
    )
    return ScoredFiles(files, pa.concat_tables(tables) if tables else None)


def read_input(path: str, signature: InputSignature | None) -> pd.DataFrame:
    """The local file ``path`` as the table the model takes; ``InputFileError`` for what it holds."""
    name = os.path.basename(path)
    file_format(name)  # before reading: a .txt is rejected without its bytes
    frame = read_table(name, Path(path).read_bytes())
    return frame if signature is None else cast_to_signature(frame, signature, name)


def _predict(parsed: list[_Parsed], predict: Predict) -> tuple[list[pa.Table], dict[int, str]]:
    """Predict all parsed files at once; on failure, one at a time to find the culprits."""
    import pandas as pd

    scored = [p for p in parsed if len(p.frame)]
    if not scored:
        return [], {}
    try:
        frame = scored[0].frame if len(scored) == 1 else pd.concat([p.frame for p in scored], ignore_index=True)
        table = prediction_columns(predict(frame), len(frame))
        return [with_file_column(table, [p.name for p in scored], [len(p.frame) for p in scored])], {}
    except Exception:  # noqa: S110 -- which file caused it is found below, one file at a time
        pass
    tables: list[pa.Table] = []
    errors: dict[int, str] = {}
    for item in scored:
        try:
            table = prediction_columns(predict(item.frame), len(item.frame))
            tables.append(with_file_column(table, [item.name], [len(item.frame)]))
        except Exception as exc:
            errors[item.index] = f"prediction failed: {type(exc).__name__}: {exc}"
    return tables, errors


def prediction_columns(raw: Any, rows: int) -> pa.Table:
    """The prediction column(s) of ``raw`` (array, list, Series, DataFrame or dict of columns).

    Raises ``ValueError`` when the row count differs from ``rows`` or ``raw`` has more than 2 dimensions.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if isinstance(raw, dict):
        raw = pd.DataFrame(raw)
    if isinstance(raw, pd.DataFrame):
        table = pa.Table.from_pandas(raw.rename(columns=str), preserve_index=False)
    elif isinstance(raw, pd.Series):
        table = pa.table({PREDICTION_COLUMN: pa.array(raw.to_numpy())})
    else:
        array = np.asarray(raw)
        if array.ndim == 1:
            table = pa.table({PREDICTION_COLUMN: pa.array(array)})
        elif array.ndim == 2:
            table = pa.table({f"{PREDICTION_COLUMN}_{i}": pa.array(array[:, i]) for i in range(array.shape[1])})
        else:
            raise ValueError(f"predict returned an array of shape {array.shape}; expected 1 or 2 dimensions")
    if table.num_rows != rows:
        raise ValueError(f"predict returned {table.num_rows} rows for {rows} input rows")
    return table


def with_file_column(predictions: pa.Table, names: Sequence[str], counts: Sequence[int]) -> pa.Table:
    """``predictions`` followed by the column ``file``: ``names[i]`` repeated ``counts[i]`` times."""
    import numpy as np
    import pyarrow as pa

    files = pa.array(np.repeat(np.asarray(names, dtype=object), np.asarray(counts, dtype=np.int64)), pa.string())
    return predictions.append_column(FILE_COLUMN, files)
