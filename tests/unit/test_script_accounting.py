"""The pure parts of scoring-script workers: item accounting, answers, environment, exit descriptions."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from batchpoint.scoring import script_driver
from batchpoint.scoring.script_process import (
    ScriptAnswer,
    describe_exit,
    failed_items,
    script_environment,
)


@pytest.mark.parametrize(
    ("files", "items", "failed"),
    [(3, 3, 0), (3, 1, 2), (3, 0, 3), (3, 10, 0), (0, 0, 0)],
)
def test_fewer_items_than_files_count_as_failed(files: int, items: int, failed: int) -> None:
    assert failed_items(files, items) == failed


def test_an_ok_answer_counts_missing_items() -> None:
    answer = ScriptAnswer.from_json({"mini_batch": 1, "ok": True, "items": 2, "result_path": "r.txt", "seconds": 0.5})
    assert (answer.mini_batch, answer.items, answer.result_path, answer.error) == (1, 2, "r.txt", None)
    assert answer.failed(5) == 3


def test_a_failed_answer_fails_every_file() -> None:
    answer = ScriptAnswer.from_json({"mini_batch": 0, "ok": False, "error": "ValueError: x", "traceback": "tb"})
    assert (answer.ok, answer.items, answer.error, answer.traceback) == (False, 0, "ValueError: x", "tb")
    assert answer.failed(4) == 4


def test_environment_has_azure_and_batchpoint_names() -> None:
    env = script_environment(Path("/m"), Path("/o"), {"MY_SETTING": "1", "AZUREML_MODEL_DIR": "ignored"})
    assert env == {
        "MY_SETTING": "1",
        "AZUREML_MODEL_DIR": "/m",
        "BATCHPOINT_MODEL_DIR": "/m",
        "AZUREML_BI_OUTPUT_PATH": "/o",
        "BATCHPOINT_OUTPUT_DIR": "/o",
    }


@pytest.mark.parametrize(
    ("returncode", "text"),
    [(7, "exited with code 7"), (-9, "killed by signal SIGKILL"), (None, "exited")],
)
def test_exit_descriptions(returncode: int | None, text: str) -> None:
    assert describe_exit(returncode) == text


def test_driver_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(script_driver.__file__).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - {"__future__"} <= sys.stdlib_module_names


@pytest.mark.parametrize("value", [None, "abc", b"abc", {"a": 1}, 3.5])
def test_driver_rejects_results_that_are_not_rows(value: object) -> None:
    with pytest.raises(script_driver.RunResultError):
        script_driver.rows_of(value)


def test_driver_writes_a_dataframe_space_separated_without_header(tmp_path: Path) -> None:
    frame = pd.DataFrame({"prediction": [1.5, 2.0], "file": ["a.csv", "b c.csv"]})
    assert script_driver.write_rows(frame, tmp_path / "out.txt") == 2
    assert (tmp_path / "out.txt").read_text().splitlines() == ["1.5 a.csv", '2.0 "b c.csv"']


def test_driver_writes_arrays_one_element_per_line(tmp_path: Path) -> None:
    assert script_driver.write_rows(np.array([1, 2, 3]), tmp_path / "out.txt") == 3
    assert (tmp_path / "out.txt").read_text() == "1\n2\n3\n"
    assert script_driver.count_items(pd.Series([1, 2])) == 2
