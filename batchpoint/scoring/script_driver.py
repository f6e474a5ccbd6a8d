"""The worker side of a scoring script: runs in the deployment's own environment.

Standalone on purpose: the environment may hold its own pandas / scikit-learn and no batchpoint, so
this file imports only the standard library. pandas arrives through what the user's ``run()``
returns, or is imported lazily when a request asks for Parquet results. ``ScriptProcess`` starts it as::

    <env python> script_driver.py --code DIR --entry score.py --logging_level info

Protocol, one JSON object per line:

- driver → parent, once: ``{"ready": true, "init_seconds": s, "pid": p}``, or
  ``{"init_error": msg, "traceback": tb}`` and exit code 3 when importing the script or its ``init()`` failed.
- parent → driver: ``{"mini_batch": i, "files": [paths], "output": "append_row"|"summary_only",
  "result_path": path|null, "result_format": "rows"|"parquet"}`` (``result_format`` defaults to ``"rows"``).
- driver → parent: ``{"mini_batch": i, "ok": true, "items": n, "result_path": path|null,
  "format": "rows"|"parquet"|"arrow", "seconds": s}`` (plus ``"files"`` for ``batchpoint_run``) or
  ``{"mini_batch": i, "ok": false, "error": msg, "traceback": tb, "seconds": s}``.
- stdin closed: ``shutdown()`` if the script defines it, then exit 0 (4 if ``shutdown()`` raised).
- the parent gone (the driver was re-parented: its coordinator, zygote or Ray node agent died): exit 5
  at once, even mid-``run()``, so that no driver outlives whoever supervised it.

Results of ``run(files)``: ``"rows"`` writes Azure's text format (``write_rows``); ``"parquet"`` writes
the result with ``DataFrame.to_parquet`` (a list or array becomes the one column ``value``).

batchpoint's own extension: a script defining ``batchpoint_run(files, result_path)`` has it called
instead of ``run()``. It writes its own result file and returns ``{"items": n, "files": [{"path": p,
"rows": r, "error": str|null}, ...], "format": "arrow"}`` (optionally ``"result_path"``: ``null`` when it
wrote nothing); the driver passes ``items``, ``files``, ``format`` and ``result_path`` through.

Grouped requests (the built-in scorer only, ``GROUP_HOOK``): ``{"mini_batch": i, "group": [{"mini_batch": j,
"files": [paths], "result_path": path|null}, ...], "output": ...}`` has ``batchpoint_run_group(members)``
called once with ``[(files, result_path), ...]``; it returns one ``batchpoint_run``-shaped dict per member.
The answer is ``{"mini_batch": i, "ok": true, "answers": [one answer per member, as above], "seconds": s}``,
or one ``"ok": false`` answer for the whole group when the hook raised. Each member is still a
mini-batch of its own (its files, its result file, its outcomes); the group is one message and one
``predict`` call. ``mini_batch_size`` keeps meaning what ``run()`` receives.

The protocol owns the original stdout; file descriptor 1 is pointed at stderr so the script's prints
(and C libraries writing to fd 1) land in the process log instead of corrupting answers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

INIT_FAILED_EXIT_CODE = 3
SHUTDOWN_FAILED_EXIT_CODE = 4
PARENT_GONE_EXIT_CODE = 5
PARENT_POLL_SECONDS = 1.0
OUTPUT_ACTIONS = ("append_row", "summary_only")
RESULT_FORMATS = ("rows", "parquet")
HOOK = "batchpoint_run"
GROUP_HOOK = "batchpoint_run_group"
HOOK_SHAPE = '{"items": n, "files": [{"path": p, "rows": r, "error": str | None}, ...], "format": "arrow"}'
VALUE_COLUMN = "value"


class RunResultError(Exception):
    """A result the driver cannot use: ``run()`` returned no rows (``None``, a scalar, a string, a dict),
    or ``batchpoint_run()`` returned something other than its documented dict.
    """


class MissingPackageError(Exception):
    """The environment lacks a package the requested result format needs (pandas, pyarrow)."""


def take_protocol_streams() -> tuple[IO[str], IO[str]]:
    """Keep private copies of stdin/stdout for the protocol; point fds 0/1 at /dev/null and stderr."""
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 -- lives as long as the process
    sys.stdout = sys.stderr
    return proto_in, proto_out


def send(out: IO[str], message: dict[str, Any]) -> None:
    """Write one protocol line and flush it."""
    out.write(json.dumps(message, default=str) + "\n")
    out.flush()


def forget_own_folder() -> None:
    """Take this file's folder off ``sys.path``, where Python put it as the script's own folder.

    batchpoint's modules beside it (``results``, ``progress``, ``signature`` ...) must not shadow the
    environment's packages of the same name.
    """
    own = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if entry == "" or Path(entry).resolve() != own]


def load_script(code_dir: Path, entry: str) -> ModuleType:
    """Import ``code_dir/entry`` as a module named after its file, with ``code_dir`` on ``sys.path``."""
    path = (code_dir / entry).resolve()
    sys.path.insert(0, str(code_dir.resolve()))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import scoring script {path} (expected a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)) and not callable(getattr(module, HOOK, None)):
        raise AttributeError(f"scoring script {path} must define run(mini_batch)")
    return module


def is_dataframe(value: object) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas")


def rows_of(value: object) -> list[Any]:
    """The elements of a list, tuple, numpy array or pandas Series returned by ``run()``."""
    if value is None:
        raise RunResultError("run() returned None; return a pandas DataFrame, a list or an array")
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise RunResultError(f"run() must return a pandas DataFrame, a list or an array, got {type(value).__name__}")
    tolist = getattr(value, "tolist", None)
    return list(tolist()) if callable(tolist) else list(value)  # type: ignore[call-overload]


def write_rows(result: object, path: Path) -> int:
    """Write ``result`` in Azure's custom-script format to ``path``; return how many items it holds.

    DataFrame: its columns in order, space-separated, no header, no index. List/array: one element
    per line. Written to a temporary name then renamed, so a crash never leaves half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if is_dataframe(result):
        frame: Any = result
        frame.to_csv(partial, sep=" ", header=False, index=False)
        items = len(frame)
    else:
        rows = rows_of(result)
        with partial.open("w", encoding="utf-8") as out:
            out.writelines(f"{row}\n" for row in rows)
        items = len(rows)
    os.replace(partial, path)
    return items


def parquet_pandas() -> Any:
    """pandas, once pyarrow (its Parquet engine) is known to be importable too.

    Called before ``run()``: a result that cannot be written is not worth computing.
    """
    try:
        pandas = importlib.import_module("pandas")
        importlib.import_module("pyarrow")
    except ImportError as exc:
        raise MissingPackageError(missing_package_message(exc)) from exc
    return pandas


def missing_package_message(exc: ImportError) -> str:
    """What to add to the environment when writing Parquet fails for want of a package."""
    return (
        "Parquet results (output_file_name ending in .parquet) need pandas and pyarrow in the scoring "
        f"environment; add `pandas` and `pyarrow` to the environment's pip dependencies ({exc!r})"
    )


def write_parquet(result: object, path: Path, pandas: Any) -> int:
    """Write ``result`` as a Parquet file at ``path``; return how many items (rows) it holds.

    DataFrame: its columns (names made text, as Parquet requires), no index. List/array/Series: the
    one column ``value``. Written to a temporary name then renamed, like ``write_rows``.
    """
    if is_dataframe(result):
        frame: Any = result
        frame = frame.rename(columns=str)
    else:
        rows = rows_of(result)
        # A 1-D array or Series keeps its dtype; anything else goes through its Python elements.
        values = result if getattr(result, "ndim", None) == 1 else rows
        frame = pandas.DataFrame({VALUE_COLUMN: pandas.Series(values)})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        frame.to_parquet(partial, engine="pyarrow", index=False)
    except ImportError as exc:  # pandas found pyarrow too old, or not at all
        raise MissingPackageError(missing_package_message(exc)) from exc
    os.replace(partial, path)
    return len(frame)


def count_items(result: object) -> int:
    """Items in ``result`` without writing it (``summary_only``)."""
    if is_dataframe(result):
        return len(result)  # type: ignore[arg-type]
    return len(rows_of(result))


def call_run(script: ModuleType, files: list[str], result_path: str | None, result_format: str) -> dict[str, Any]:
    """Call ``run(files)`` and write its result; the answer's ``items``, ``result_path`` and ``format``."""
    pandas = parquet_pandas() if result_path and result_format == "parquet" else None
    result = script.run(files)
    if not result_path:
        items = count_items(result)
    elif pandas is not None:
        items = write_parquet(result, Path(result_path), pandas)
    else:
        items = write_rows(result, Path(result_path))
    return {"items": items, "result_path": result_path, "format": result_format}


def hook_answer(value: object, result_path: str | None) -> dict[str, Any]:
    """The answer fields from what ``batchpoint_run()`` returned; ``RunResultError`` if it is malformed.

    ``result_path`` is the path it was given; its own ``"result_path"`` (``None``: nothing written) wins.
    """
    try:
        fields: Any = value  # checked by use: anything else raises below
        files = [{"path": str(f["path"]), "rows": int(f["rows"]), "error": f.get("error")} for f in fields["files"]]
        answer = {"items": int(fields["items"]), "result_path": fields.get("result_path", result_path)}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise RunResultError(f"batchpoint_run() must return {HOOK_SHAPE}; got {value!r:.300} ({exc!r})") from exc
    if answer["result_path"] is not None and not Path(answer["result_path"]).is_file():
        raise RunResultError(f"batchpoint_run() reported result_path {answer['result_path']} but wrote no such file")
    return {**answer, "format": str(fields.get("format", "arrow")), "files": files}


def run_mini_batch(script: ModuleType, request: dict[str, Any]) -> dict[str, Any]:
    """Score one request with ``batchpoint_run()`` or ``run()``; never raises for the script's faults."""
    index = request.get("mini_batch")
    started = time.perf_counter()
    try:
        output = request.get("output", "append_row")
        if output not in OUTPUT_ACTIONS:
            raise ValueError(f"output must be one of {OUTPUT_ACTIONS}, got {output!r}")
        result_format = request.get("result_format", "rows")
        if result_format not in RESULT_FORMATS:
            raise ValueError(f"result_format must be one of {RESULT_FORMATS}, got {result_format!r}")
        files = [str(f) for f in request["files"]]
        result_path: str | None = request.get("result_path") if output == "append_row" else None
        hook = getattr(script, HOOK, None)
        if callable(hook):
            fields = hook_answer(hook(files, result_path), result_path)
        else:
            fields = call_run(script, files, result_path, result_format)
    except Exception as exc:
        return _failed(index, exc, started)
    return {"mini_batch": index, "ok": True, **fields, "seconds": time.perf_counter() - started}


def _failed(index: Any, exc: Exception, started: float) -> dict[str, Any]:
    """The answer for a request whose script raised ``exc`` (called inside its ``except``)."""
    return {
        "mini_batch": index,
        "ok": False,
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(),
        "seconds": time.perf_counter() - started,
    }


def run_group(script: ModuleType, request: dict[str, Any]) -> dict[str, Any]:
    """Score a grouped request with ``batchpoint_run_group()``; never raises for the script's faults."""
    index = request.get("mini_batch")
    started = time.perf_counter()
    try:
        hook = getattr(script, GROUP_HOOK, None)
        if not callable(hook):
            raise RunResultError(f"a grouped request needs {GROUP_HOOK}(members) in the script, which has none")
        output = request.get("output", "append_row")
        if output not in OUTPUT_ACTIONS:
            raise ValueError(f"output must be one of {OUTPUT_ACTIONS}, got {output!r}")
        members = [
            ([str(f) for f in m["files"]], m.get("result_path") if output == "append_row" else None)
            for m in request["group"]
        ]
        values = list(hook(members))
        if len(values) != len(members):
            raise RunResultError(f"{GROUP_HOOK}() returned {len(values)} answers for {len(members)} mini-batches")
        share = (time.perf_counter() - started) / max(len(members), 1)
        answers = [
            {"mini_batch": m["mini_batch"], "ok": True, **hook_answer(value, path), "seconds": share}
            for m, (_, path), value in zip(request["group"], members, values)  # noqa: B905 -- Python 3.8: no strict
        ]
    except Exception as exc:
        return _failed(index, exc, started)
    return {"mini_batch": index, "ok": True, "answers": answers, "seconds": time.perf_counter() - started}


def requests(proto_in: IO[str]) -> Iterator[dict[str, Any]]:
    """Requests from the parent until it closes stdin; blank lines are skipped."""
    for line in proto_in:
        if line.strip():
            request: dict[str, Any] = json.loads(line)
            yield request


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``--code DIR --entry FILE --logging_level LEVEL``."""
    parser = argparse.ArgumentParser(description="batchpoint scoring-script driver")
    parser.add_argument("--code", required=True, type=Path, help="folder holding the scoring script")
    parser.add_argument("--entry", required=True, help="scoring script file inside --code, e.g. score.py")
    parser.add_argument("--logging_level", default="info", help="debug, info, warning, error or critical")
    return parser.parse_args(argv)


def watch_parent(poll: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """Exit the process once its parent is gone: a hung ``run()`` would otherwise keep an orphan alive."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(PARENT_GONE_EXIT_CODE)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def main(argv: list[str]) -> int:
    """Import the script, ``init()`` it, serve mini-batches until stdin closes; return the exit code."""
    args = parse_args(argv)
    watch_parent()
    forget_own_folder()
    proto_in, proto_out = take_protocol_streams()
    level = str(args.logging_level).upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    # The script sees the arguments Azure passes it, e.g. for its own argparse.
    sys.argv = [str(args.code / args.entry), "--logging_level", args.logging_level]
    started = time.perf_counter()
    try:
        script = load_script(args.code, args.entry)
        init = getattr(script, "init", None)
        if callable(init):
            init()
    except BaseException as exc:
        traceback.print_exc()
        send(proto_out, {"init_error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        return INIT_FAILED_EXIT_CODE
    send(proto_out, {"ready": True, "init_seconds": time.perf_counter() - started, "pid": os.getpid()})
    for request in requests(proto_in):
        answer = run_group(script, request) if "group" in request else run_mini_batch(script, request)
        if not answer["ok"]:
            print(f"mini-batch {answer['mini_batch']} failed:\n{answer['traceback']}", file=sys.stderr)
        send(proto_out, answer)
    shutdown = getattr(script, "shutdown", None)
    if callable(shutdown):
        try:
            shutdown()
        except Exception:
            traceback.print_exc()
            return SHUTDOWN_FAILED_EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
