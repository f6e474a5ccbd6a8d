"""``ScriptProcess`` + ``script_driver.py`` with real scoring scripts, each in its own worker process.

The environment's Python is this interpreter, except for a bare ``uv venv`` (no pandas) where the
driver must still work, stdlib only, and say what to add when Parquet results are asked for.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from batchpoint.environments.uv_binary import find_uv
from batchpoint.scoring.script_process import (
    FileOutcome,
    MiniBatchTimeout,
    ScriptInitError,
    ScriptProcess,
    WorkerCrashed,
    script_environment,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

START_TIMEOUT = 30.0

AZURE_PATTERN = """
import glob
import logging
import os
import sys

import pandas as pd

model_path = None
logging_level = None


def init():
    global model_path, logging_level
    model_path = glob.glob(os.environ["AZUREML_MODEL_DIR"] + "/*/")[0]
    logging_level = sys.argv[sys.argv.index("--logging_level") + 1]
    print("init done", model_path)  # stdout must not break the protocol


def run(mini_batch):
    factor = float(open(os.path.join(model_path, "factor.txt")).read())
    frames = []
    for path in mini_batch:
        data = pd.read_csv(path)
        frames.append(pd.DataFrame({
            "prediction": data["x"] * factor,
            "file": os.path.basename(path),
            "level": logging_level,
        }))
    return pd.concat(frames)
"""

SCORE_FILES = """
import os

def run(mini_batch):
    print("scoring", mini_batch)
    os.system("echo from-a-child-process")  # writes to file descriptor 1 directly
    return [os.path.basename(p) for p in mini_batch]
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A model dir laid out as Azure does (files in a subfolder), an output dir and three CSV inputs."""
    (tmp_path / "model" / "my-model").mkdir(parents=True)
    (tmp_path / "model" / "my-model" / "factor.txt").write_text("2\n")
    (tmp_path / "out").mkdir()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for i in range(3):
        (inputs / f"part-{i}.csv").write_text("x\n" + "\n".join(str(i * 10 + r) for r in range(2)) + "\n")
    return tmp_path


def inputs(workdir: Path) -> list[Path]:
    return sorted((workdir / "inputs").glob("*.csv"))


@pytest.fixture
def make_process(workdir: Path) -> Iterator[Callable[..., ScriptProcess]]:
    """Write ``source`` as ``score.py`` in a code dir and start a driver on it (closed after the test)."""
    started: list[ScriptProcess] = []

    def make(source: str, *, start: bool = True, python: Path = Path(sys.executable)) -> ScriptProcess:
        code = workdir / "code"
        code.mkdir(exist_ok=True)
        (code / "score.py").write_text(textwrap.dedent(source))
        env = script_environment(workdir / "model", workdir / "out", {"MARKER": str(workdir / "marker")})
        process = ScriptProcess(python, code, "score.py", env, "debug", workdir / "logs")
        started.append(process)
        if start:
            process.start(START_TIMEOUT)
        return process

    yield make
    for process in started:
        process.close(grace=5)


def test_azure_pattern_writes_space_separated_rows(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    process = make_process(AZURE_PATTERN)
    result = workdir / "results" / "mb-0.txt"
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", result, timeout=30)
    assert answer.ok, answer.traceback
    assert answer.items == 6
    assert answer.failed(3) == 0
    assert result.read_text().splitlines() == [
        "0.0 part-0.csv debug",
        "2.0 part-0.csv debug",
        "20.0 part-1.csv debug",
        "22.0 part-1.csv debug",
        "40.0 part-2.csv debug",
        "42.0 part-2.csv debug",
    ]
    assert "init done" in process.stderr_tail()
    assert process.close() == 0


def test_summary_only_counts_without_writing(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    process = make_process(SCORE_FILES)
    answer = process.run_mini_batch(4, inputs(workdir), "summary_only", None, timeout=30)
    assert (answer.ok, answer.items, answer.result_path) == (True, 3, None)


def test_list_rows_one_per_line_and_prints_do_not_break_protocol(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    process = make_process(SCORE_FILES)
    for index in range(2):
        result = workdir / f"mb-{index}.txt"
        answer = process.run_mini_batch(index, inputs(workdir), "append_row", result, timeout=30)
        assert (answer.mini_batch, answer.ok, answer.items) == (index, True, 3)
        assert result.read_text().splitlines() == ["part-0.csv", "part-1.csv", "part-2.csv"]
    assert "scoring" in process.stderr_tail()
    assert "from-a-child-process" in process.stderr_tail()


def test_init_error_carries_the_traceback(make_process: Callable[..., ScriptProcess]) -> None:
    source = """
    def init():
        raise RuntimeError("model file missing")

    def run(mini_batch):
        return mini_batch
    """
    process = make_process(source, start=False)
    with pytest.raises(ScriptInitError) as caught:
        process.start(START_TIMEOUT)
    assert "RuntimeError: model file missing" in caught.value.error
    assert 'score.py", line 3, in init' in caught.value.traceback
    assert process.returncode == 3


def test_run_raising_fails_the_mini_batch_only(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    source = """
    import os

    def run(mini_batch):
        for path in mini_batch:
            if path.endswith("part-1.csv"):
                raise ValueError(f"cannot score {os.path.basename(path)}")
        return mini_batch
    """
    process = make_process(source)
    files = inputs(workdir)
    bad = process.run_mini_batch(0, files, "append_row", workdir / "mb-0.txt", timeout=30)
    assert not bad.ok
    assert bad.error == "ValueError: cannot score part-1.csv"
    assert bad.traceback is not None and "in run" in bad.traceback
    assert bad.failed(3) == 3
    assert not (workdir / "mb-0.txt").exists()
    good = process.run_mini_batch(1, [files[0], files[2]], "append_row", workdir / "mb-1.txt", timeout=30)
    assert (good.ok, good.items) == (True, 2)


def test_hanging_run_times_out_and_a_fresh_worker_inits_again(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    source = """
    import os
    import time

    def init():
        with open(os.environ["MARKER"] + ".init", "a") as f:
            f.write("init\\n")

    def run(mini_batch):
        if os.path.exists(os.environ["MARKER"] + ".hang"):
            os.remove(os.environ["MARKER"] + ".hang")
            time.sleep(600)
        return mini_batch
    """
    (workdir / "marker.hang").touch()
    process = make_process(source)
    started = time.monotonic()
    with pytest.raises(MiniBatchTimeout) as caught:
        process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.txt", timeout=1.0)
    assert time.monotonic() - started < 1.0 + 3.0
    assert caught.value.retriable and caught.value.mini_batch == 0
    assert process.returncode is not None
    fresh = make_process(source)
    answer = fresh.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.txt", timeout=30)
    assert (answer.ok, answer.items) == (True, 3)
    assert (workdir / "marker.init").read_text() == "init\ninit\n"


def test_exiting_process_is_a_crash_with_its_exit_code(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    source = """
    import os
    import sys

    def run(mini_batch):
        print("about to exit", file=sys.stderr, flush=True)
        os._exit(7)
    """
    process = make_process(source)
    with pytest.raises(WorkerCrashed) as caught:
        process.run_mini_batch(2, inputs(workdir), "append_row", workdir / "mb-2.txt", timeout=30)
    assert caught.value.returncode == 7
    assert caught.value.retriable
    assert "mini-batch 2: worker exited with code 7" in str(caught.value)
    assert "about to exit" in caught.value.stderr_tail


def test_too_few_items_count_the_rest_as_failed(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    process = make_process("def run(mini_batch):\n    return mini_batch[:1]\n")
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.txt", timeout=30)
    assert (answer.ok, answer.items) == (True, 1)
    assert answer.failed(3) == 2


def test_returning_none_is_an_error(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    process = make_process("def run(mini_batch):\n    return None\n")
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.txt", timeout=30)
    assert not answer.ok
    assert answer.error is not None and "returned None" in answer.error
    assert answer.failed(3) == 3


def test_shutdown_runs_on_close(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    source = """
    import os

    def run(mini_batch):
        return mini_batch

    def shutdown():
        with open(os.environ["MARKER"], "w") as f:
            f.write("shutdown")
    """
    process = make_process(source)
    process.run_mini_batch(0, inputs(workdir), "summary_only", None, timeout=30)
    assert process.close() == 0
    assert (workdir / "marker").read_text() == "shutdown"


HOOK = """
import os

def run(mini_batch):
    raise AssertionError("batchpoint_run() must be called instead of run()")

def batchpoint_run(files, result_path):
    bad = [p.endswith("part-1.csv") for p in files]
    outcomes = [{"path": p, "rows": 0 if b else 2, "error": "cannot score" if b else None} for p, b in zip(files, bad)]
    if result_path is not None:
        with open(result_path, "w") as out:
            out.write(",".join(os.path.basename(p) for p in files))
    return {"items": 2, "files": outcomes, "format": "arrow"}
"""


def test_batchpoint_run_is_called_instead_of_run_and_its_outcomes_pass_through(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    process = make_process(HOOK)
    files = inputs(workdir)
    result = workdir / "mb-0.arrow"
    answer = process.run_mini_batch(0, files, "append_row", result, timeout=30)
    assert answer.ok, answer.traceback
    assert (answer.format, answer.items, answer.result_path) == ("arrow", 2, str(result))
    assert answer.files == (
        FileOutcome(str(files[0]), 2, None),
        FileOutcome(str(files[1]), 0, "cannot score"),
        FileOutcome(str(files[2]), 2, None),
    )
    assert answer.failed(3) == 1
    assert answer.failed(4) == 2, "a file the script did not report on counts as failed"
    assert result.read_text() == "part-0.csv,part-1.csv,part-2.csv"
    summary = process.run_mini_batch(1, files, "summary_only", workdir / "ignored.arrow", timeout=30)
    assert (summary.ok, summary.result_path, len(summary.files)) == (True, None, 3)
    assert not (workdir / "ignored.arrow").exists()


def test_batchpoint_run_that_wrote_nothing_answers_no_result_path(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    source = """
    def batchpoint_run(files, result_path):
        return {"items": 0, "files": [{"path": p, "rows": 0, "error": "bad"} for p in files], "result_path": None}
    """
    process = make_process(source)
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.arrow", timeout=30)
    assert (answer.ok, answer.result_path, answer.format) == (True, None, "arrow")
    assert answer.failed(3) == 3


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("raise ValueError('model rejected the batch')", "ValueError: model rejected the batch"),
        ("return None", 'RunResultError: batchpoint_run() must return {"items": n, "files"'),
        ("return {'items': 1, 'files': [{'rows': 1}]}", "RunResultError: batchpoint_run() must return"),
        ("return {'items': 0, 'files': []}", "RunResultError: batchpoint_run() reported result_path"),
    ],
)
def test_batchpoint_run_failures_fail_the_mini_batch(
    workdir: Path, make_process: Callable[..., ScriptProcess], body: str, error: str
) -> None:
    process = make_process(f"def batchpoint_run(files, result_path):\n    {body}\n")
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.arrow", timeout=30)
    assert not answer.ok
    assert answer.error is not None and answer.error.startswith(error), answer.error
    assert answer.failed(3) == 3


def test_parquet_results_keep_the_dataframe_columns(workdir: Path, make_process: Callable[..., ScriptProcess]) -> None:
    process = make_process(AZURE_PATTERN)
    result = workdir / "results" / "mb-0.parquet"
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", result, timeout=30, result_format="parquet")
    assert answer.ok, answer.traceback
    assert (answer.format, answer.items, answer.result_path, answer.files) == ("parquet", 6, str(result), ())
    frame = pd.read_parquet(result)
    assert frame.columns.tolist() == ["prediction", "file", "level"]
    assert frame["prediction"].tolist() == [0.0, 2.0, 20.0, 22.0, 40.0, 42.0]
    assert frame["file"].tolist() == ["part-0.csv"] * 2 + ["part-1.csv"] * 2 + ["part-2.csv"] * 2
    assert not list(result.parent.glob("*.partial"))


@pytest.mark.parametrize(
    ("returned", "column", "values", "dtype"),
    [
        ("[os.path.basename(p) for p in mini_batch]", "value", ["part-0.csv", "part-1.csv", "part-2.csv"], None),
        ("np.arange(len(mini_batch), dtype='int32')", "value", [0, 1, 2], "int32"),
        ("pd.Series([0.5] * len(mini_batch), index=[7, 8, 9])", "value", [0.5, 0.5, 0.5], "float64"),
        ("pd.DataFrame([(p[-5:], 1) for p in mini_batch])", "0", ["0.csv", "1.csv", "2.csv"], None),
    ],
)
def test_parquet_results_of_lists_and_arrays_are_one_value_column(
    workdir: Path,
    make_process: Callable[..., ScriptProcess],
    returned: str,
    column: str,
    values: list[object],
    dtype: str | None,
) -> None:
    source = f"import os\nimport numpy as np\nimport pandas as pd\n\ndef run(mini_batch):\n    return {returned}\n"
    process = make_process(source)
    result = workdir / "mb-0.parquet"
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", result, timeout=30, result_format="parquet")
    assert (answer.ok, answer.items, answer.format) == (True, 3, "parquet"), answer.traceback
    frame = pd.read_parquet(result)
    assert frame.columns[0] == column
    assert frame[column].tolist() == values
    if dtype is not None:
        assert str(frame[column].dtype) == dtype


def test_summary_only_with_parquet_counts_without_writing(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    process = make_process(SCORE_FILES)
    answer = process.run_mini_batch(0, inputs(workdir), "summary_only", None, timeout=30, result_format="parquet")
    assert (answer.ok, answer.items, answer.result_path, answer.format) == (True, 3, None, "parquet")


def test_an_unknown_result_format_is_refused_before_sending(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    process = make_process(SCORE_FILES)
    with pytest.raises(ValueError, match="result_format must be one of rows, parquet, got 'csv'"):
        process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.csv", timeout=30, result_format="csv")


def test_a_bare_environment_scores_rows_and_names_what_parquet_needs(
    workdir: Path, tmp_path: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    venv = tmp_path / "bare-venv"
    subprocess.run([*find_uv(), "venv", "--python", sys.executable, str(venv)], cwd=tmp_path, check=True)
    python = venv / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import pandas"], check=False, capture_output=True).returncode != 0
    source = """
    import os

    def run(mini_batch):
        with open(os.environ["MARKER"], "a") as marker:
            marker.write("run\\n")
        return [os.path.basename(p) for p in mini_batch]
    """
    process = make_process(source, python=python)
    rows = process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.txt", timeout=30)
    assert (rows.ok, rows.items, rows.format) == (True, 3, "rows"), rows.traceback
    assert (workdir / "mb-0.txt").read_text().splitlines() == ["part-0.csv", "part-1.csv", "part-2.csv"]

    parquet = process.run_mini_batch(
        1, inputs(workdir), "append_row", workdir / "mb-1.parquet", timeout=30, result_format="parquet"
    )
    assert not parquet.ok
    assert parquet.error is not None
    assert parquet.error.startswith("MissingPackageError: Parquet results (output_file_name ending in .parquet)")
    assert "add `pandas` and `pyarrow` to the environment's pip dependencies" in parquet.error
    assert "No module named 'pandas'" in parquet.error
    assert (workdir / "marker").read_text() == "run\n", "run() is not called when its result cannot be written"
    assert not (workdir / "mb-1.parquet").exists()


def test_batchpoints_own_modules_do_not_shadow_the_environments(
    workdir: Path, make_process: Callable[..., ScriptProcess]
) -> None:
    source = """
    import importlib.util

    def run(mini_batch):
        # Modules beside script_driver.py (results.py, progress.py ...) must not be importable as top-level names.
        return [importlib.util.find_spec(name) is None for name in ("script_answers", "results", "progress")]
    """
    process = make_process(source)
    answer = process.run_mini_batch(0, inputs(workdir), "append_row", workdir / "mb-0.txt", timeout=30)
    assert answer.ok, answer.traceback
    assert (workdir / "mb-0.txt").read_text().splitlines() == ["True", "True", "True"]
