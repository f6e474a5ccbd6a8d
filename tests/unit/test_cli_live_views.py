"""What `batchpoint up` and `batch-endpoint backfill` draw on a terminal, and print when piped."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import click
from click.testing import CliRunner
from rich.console import Console

import batchpoint.cli.backfill_command as backfill_command
from batchpoint.cli.stack_progress import StartReport
from batchpoint.sdk.entities.backfill import Backfill


def without_control_codes(drawn: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)


def terminal() -> tuple[Console, io.StringIO]:
    screen = io.StringIO()
    return Console(file=screen, force_terminal=True, width=160), screen


def test_up_on_a_terminal_prints_each_healthy_service_with_its_time_under_a_spinner() -> None:
    console, screen = terminal()
    report = StartReport(console)
    with report.starting(["s3", "kafka"]):
        report.healthy("s3", "http://127.0.0.1:18333", 1.25)
        report.healthy("kafka", "127.0.0.1:19092", 2.5)
    drawn = without_control_codes(screen.getvalue())
    assert "s3         http://127.0.0.1:18333   (healthy in 1.2 s)" in drawn
    assert "kafka      127.0.0.1:19092   (healthy in 2.5 s)" in drawn
    assert "starting: waiting for s3, kafka (0 s)" in drawn  # the spinner's first frame, drawn at its start


def test_up_piped_prints_the_same_lines_and_no_control_code() -> None:
    def start() -> None:
        report = StartReport(None)
        with report.starting(["s3"]):
            report.healthy("s3", "http://127.0.0.1:18333", 1.25)
        report.event("s3 exited (code -9); restarting it")

    result = CliRunner().invoke(_as_command(start))
    assert "\x1b" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "  s3         http://127.0.0.1:18333   (healthy in 1.2 s)"
    assert lines[1].endswith(" s3 exited (code -9); restarting it")


def test_a_backfill_on_a_terminal_is_one_line_per_month() -> None:
    backfill = Backfill(
        {
            "id": "bf-1",
            "endpoint_name": "sales",
            "months": [
                {"month": "2026-01", "status": "Completed", "job_name": "run-a",
                 "started_at": "2026-12-02T05:00:00Z", "ended_at": "2026-12-02T05:00:12Z"},
                {"month": "2026-02", "status": "Running", "job_name": "run-b"},
                {"month": "2026-03", "status": "NotStarted"},
            ],
        }
    )  # fmt: skip
    console, screen = terminal()
    console.print(backfill_command._months_table(backfill, 14.0))
    rows = [line.split() for line in without_control_codes(screen.getvalue()).splitlines() if line.strip()]
    assert rows[0] == ["month", "status", "job", "took"]
    assert rows[1] == ["2026-01", "Completed", "run-a", "12.0", "s"]
    assert rows[2] == ["2026-02", "Running", "run-b"]
    assert rows[3] == ["2026-03", "NotStarted"]
    assert rows[4] == ["14", "s", "(1/3", "done,", "0", "failed)"]


def _as_command(body: Callable[[], None]) -> click.Command:
    @click.command()
    def command() -> None:
        body()

    return command
