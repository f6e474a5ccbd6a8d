"""The worker side of a custom scoring script: runs in the deployment's own environment.

Standalone on purpose: the environment may hold its own pandas / scikit-learn and no batchpoint, so
this file imports only the standard library (pandas, numpy or pyarrow only arrive through what the
user's ``run()`` returns). ``ScriptProcess`` starts it as::

    <env python> script_driver.py --code DIR --entry score.py --logging_level info

Protocol, one JSON object per line:

- driver → parent, once: ``{"ready": true, "init_seconds": s}``, or ``{"init_error": msg, "traceback": tb}``
  and exit code 3 when importing the script or its ``init()`` failed.
- parent → driver: ``{"mini_batch": i, "files": [paths], "output": "append_row"|"summary_only",
  "result_path": path|null}``.
- driver → parent: ``{"mini_batch": i, "ok": true, "items": n, "result_path": path, "seconds": s}`` or
  ``{"mini_batch": i, "ok": false, "error": msg, "traceback": tb, "seconds": s}``.
- stdin closed: ``shutdown()`` if the script defines it, then exit 0 (4 if ``shutdown()`` raised).

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
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

INIT_FAILED_EXIT_CODE = 3
SHUTDOWN_FAILED_EXIT_CODE = 4
OUTPUT_ACTIONS = ("append_row", "summary_only")


class RunResultError(Exception):
    """``run()`` returned something that is not rows: ``None``, a scalar, a string, a dict."""


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
    if not callable(getattr(module, "run", None)):
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


def count_items(result: object) -> int:
    """Items in ``result`` without writing it (``summary_only``)."""
    if is_dataframe(result):
        return len(result)  # type: ignore[arg-type]
    return len(rows_of(result))


def run_mini_batch(script: ModuleType, request: dict[str, Any]) -> dict[str, Any]:
    """Call ``run(files)`` for one request and build its answer; never raises for the script's faults."""
    index = request.get("mini_batch")
    started = time.perf_counter()
    try:
        output = request.get("output", "append_row")
        if output not in OUTPUT_ACTIONS:
            raise ValueError(f"output must be one of {OUTPUT_ACTIONS}, got {output!r}")
        result = script.run(list(request["files"]))
        result_path: str | None = request.get("result_path") if output == "append_row" else None
        items = write_rows(result, Path(result_path)) if result_path else count_items(result)
    except Exception as exc:
        return {
            "mini_batch": index,
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "seconds": time.perf_counter() - started,
        }
    return {
        "mini_batch": index,
        "ok": True,
        "items": items,
        "result_path": result_path,
        "seconds": time.perf_counter() - started,
    }


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


def main(argv: list[str]) -> int:
    """Import the script, ``init()`` it, serve mini-batches until stdin closes; return the exit code."""
    args = parse_args(argv)
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
        answer = run_mini_batch(script, request)
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
