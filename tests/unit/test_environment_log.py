"""The environment's lines are kept for the job's user log, dated like progress lines, and passed on."""

import logging
import time

import pytest

from batchpoint.scoring.environment_log import EnvironmentLog, environment_line


def test_a_line_is_dated_and_marks_warnings_and_errors() -> None:
    created = time.mktime((2026, 12, 1, 15, 4, 5, 0, 0, -1))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created))
    assert environment_line(created, logging.INFO, "environment 0123: reused") == f"{stamp} environment 0123: reused"
    assert environment_line(created, logging.WARNING, "python 3.8.5 is not here").endswith(
        " WARNING python 3.8.5 is not here"
    )
    assert environment_line(created, logging.ERROR, "build failed").endswith(" ERROR build failed")


def test_lines_are_kept_in_order_and_said_in_the_forwarded_log(caplog: pytest.LogCaptureFixture) -> None:
    said = EnvironmentLog(logging.getLogger("test.environment_log"))
    with caplog.at_level(logging.INFO, logger="test.environment_log"):
        said.logger.info("environment: the model's requirements.txt asks for python 3.10 and 3 requirements")
        said.logger.warning("environment 0123: python 3.10.5 is not on this machine")
    assert [line.split(" ", 1)[1] for line in said.lines] == [
        "environment: the model's requirements.txt asks for python 3.10 and 3 requirements",
        "WARNING environment 0123: python 3.10.5 is not on this machine",
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "environment: the model's requirements.txt asks for python 3.10 and 3 requirements",
        "environment 0123: python 3.10.5 is not on this machine",
    ]


def test_without_a_forwarded_log_the_lines_are_only_kept(caplog: pytest.LogCaptureFixture) -> None:
    said = EnvironmentLog()
    with caplog.at_level(logging.DEBUG):
        said.logger.info("environment: no build")
    assert len(said.lines) == 1 and caplog.records == []
