"""Scoring one mini-batch: fetch, read, cast and predict each file; a bad file fails only itself.

Pure of any model library: the worker hands in ``fetch`` and ``predict``. Files are fetched in
parallel (``executor``) while earlier ones are parsed, and the parsed files are predicted in one
call, because per-call overhead dominates on small files; if that call fails the files are
predicted one by one, so one file the model rejects does not fail the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from batchpoint.errors import BatchpointError, InputFileError
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.predictions import prediction_columns, with_file_column
from batchpoint.scoring.reading import file_format, read_table
from batchpoint.scoring.results import FileResult, MiniBatchResult
from batchpoint.scoring.signature import InputSignature, cast_to_signature
from batchpoint.storage.port import ObjectInfo
from batchpoint.text_excerpts import excerpt

Fetch = Callable[[ObjectInfo], bytes]
Predict = Callable[[pd.DataFrame], Any]


@dataclass
class _Parsed:
    info: ObjectInfo
    frame: pd.DataFrame
    seconds: float


def score_mini_batch(
    mini_batch: MiniBatch,
    *,
    fetch: Fetch,
    predict: Predict,
    signature: InputSignature | None,
    executor: Executor | None = None,
) -> MiniBatchResult:
    """Score every file of ``mini_batch``; failures are recorded per file, never raised."""
    started = time.perf_counter()
    errors: dict[str, tuple[str, float]] = {}
    parsed: list[_Parsed] = []
    for info, pending in _fetch_all(mini_batch.files, fetch, executor):
        t0 = time.perf_counter()
        try:
            file_format(info.name)  # before result(): a .txt is rejected without downloading it
            frame = read_table(info.name, pending.result())
            if signature is not None:
                frame = cast_to_signature(frame, signature, info.name)
            parsed.append(_Parsed(info, frame, time.perf_counter() - t0))
        except InputFileError as exc:
            errors[info.key] = (exc.problem, time.perf_counter() - t0)
        except BatchpointError as exc:
            errors[info.key] = (str(exc), time.perf_counter() - t0)
        except Exception as exc:
            errors[info.key] = (f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
    tables, predict_errors, predict_seconds = _predict(parsed, predict)
    errors.update(predict_errors)
    results = []
    for info in mini_batch.files:
        if info.key in errors:
            problem, seconds = errors[info.key]
            # Parsers quote the row they choke on: a binary file's bytes must not reach the logs.
            results.append(FileResult(info.bucket, info.key, info.etag, info.size, 0, excerpt(problem), seconds))
    for item in parsed:
        if item.info.key not in errors:
            seconds = item.seconds + predict_seconds.get(item.info.key, 0.0)
            results.append(_ok(item.info, len(item.frame), seconds))
    order = {info.key: i for i, info in enumerate(mini_batch.files)}
    results.sort(key=lambda r: order[r.key])
    predictions = pa.concat_tables(tables) if tables else None
    return MiniBatchResult(mini_batch.index, tuple(results), predictions, time.perf_counter() - started, os.getpid())


def _ok(info: ObjectInfo, rows: int, seconds: float) -> FileResult:
    return FileResult(info.bucket, info.key, info.etag, info.size, rows, None, seconds)


def _fetch_all(
    files: tuple[ObjectInfo, ...], fetch: Fetch, executor: Executor | None
) -> list[tuple[ObjectInfo, Future[bytes]]]:
    pending: list[tuple[ObjectInfo, Future[bytes]]] = []
    for info in files:
        if executor is not None and _supported(info):
            pending.append((info, executor.submit(fetch, info)))
        else:
            pending.append((info, _Deferred(fetch, info)))
    return pending


def _supported(info: ObjectInfo) -> bool:
    try:
        file_format(info.name)
    except InputFileError:
        return False
    return True


class _Deferred(Future[bytes]):
    """A fetch done on first ``result()``: sequential mode, and never for files rejected by name."""

    def __init__(self, fetch: Fetch, info: ObjectInfo) -> None:
        super().__init__()
        self._fetch = fetch
        self._info = info

    def result(self, timeout: float | None = None) -> bytes:
        if not self.done():
            try:
                self.set_result(self._fetch(self._info))
            except BaseException as exc:
                self.set_exception(exc)
        return super().result(timeout)


def _predict(
    parsed: list[_Parsed], predict: Predict
) -> tuple[list[pa.Table], dict[str, tuple[str, float]], dict[str, float]]:
    """Predict all parsed files at once; on failure, one at a time to find the culprits."""
    scored = [p for p in parsed if len(p.frame)]
    if not scored:
        return [], {}, {}
    t0 = time.perf_counter()
    try:
        frame = scored[0].frame if len(scored) == 1 else pd.concat([p.frame for p in scored], ignore_index=True)
        table = prediction_columns(predict(frame), len(frame))
        table = with_file_column(table, [p.info.name for p in scored], [len(p.frame) for p in scored])
        elapsed = time.perf_counter() - t0
        total = len(frame)
        return [table], {}, {p.info.key: elapsed * len(p.frame) / total for p in scored}
    except Exception:  # noqa: S110 -- which file caused it is found below, one file at a time
        pass
    tables: list[pa.Table] = []
    errors: dict[str, tuple[str, float]] = {}
    seconds: dict[str, float] = {}
    for item in scored:
        t0 = time.perf_counter()
        try:
            table = prediction_columns(predict(item.frame), len(item.frame))
            tables.append(with_file_column(table, [item.info.name], [len(item.frame)]))
            seconds[item.info.key] = time.perf_counter() - t0
        except Exception as exc:
            errors[item.info.key] = (f"prediction failed: {type(exc).__name__}: {exc}", time.perf_counter() - t0)
    return tables, errors, seconds
