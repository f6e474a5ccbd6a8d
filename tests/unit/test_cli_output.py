"""CLI output follows az: JSON by default (or $AZURE_CORE_OUTPUT), JMESPath ``--query``, result-shaped tables."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from batchpoint.cli.api_command import api_command, emit, output_options

JOBS = [
    {"name": "batchjob-000000000001", "status": "Completed", "progress": {"rows": 20}},
    {"name": "batchjob-000000000002", "status": "Failed", "progress": {"rows": 0}},
]


@click.command()
@output_options
@api_command
def list_jobs(output: str, query: str | None) -> None:
    emit(JOBS, output, query, ("name", "status", "progress.rows"))


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(list_jobs, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_query_without_output_is_json_of_the_queried_value() -> None:
    assert json.loads(_run("--query", "[].name")) == ["batchjob-000000000001", "batchjob-000000000002"]
    assert json.loads(_run("--query", "[?status=='Failed'] | [0].progress.rows")) == 0


def test_no_output_is_json_as_in_az_so_scripts_can_jq_it() -> None:
    assert json.loads(_run()) == JOBS


@pytest.mark.parametrize("variable", ["AZURE_CORE_OUTPUT", "BATCHPOINT_CORE_OUTPUT"])
def test_the_default_output_comes_from_the_environment(variable: str) -> None:
    lines = _run(env={variable: "table"}).splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "PROGRESS.ROWS"]
    assert json.loads(_run("-o", "json", env={variable: "table"})) == JOBS


def test_batchpoints_own_variable_wins_over_azures() -> None:
    out = _run(env={"AZURE_CORE_OUTPUT": "table", "BATCHPOINT_CORE_OUTPUT": "tsv"})
    assert out.splitlines()[0].split("\t") == ["batchjob-000000000001", "Completed", "20"]


def test_an_unknown_default_output_is_one_error_line() -> None:
    result = CliRunner().invoke(list_jobs, [], env={"AZURE_CORE_OUTPUT": "xml"})
    assert result.exit_code == 1
    assert "AZURE_CORE_OUTPUT: 'xml' is not an output format" in result.output


def test_table_is_the_commands_columns() -> None:
    lines = _run("-o", "table").splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "PROGRESS.ROWS"]
    assert lines[1].split() == ["batchjob-000000000001", "Completed", "20"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--query", "[].name", "-o", "table"), ["RESULT", "batchjob-000000000001", "batchjob-000000000002"]),
        (
            ("--query", "[].{job:name, rows:progress.rows}", "-o", "table"),
            ["JOB", "ROWS", "batchjob-000000000001", "20", "batchjob-000000000002", "0"],
        ),
        (("--query", "[].name", "-o", "tsv"), ["batchjob-000000000001", "batchjob-000000000002"]),
        (("--query", "[0]", "-o", "TSV"), ["batchjob-000000000001", "Completed", '{"rows":', "20}"]),
    ],
)
def test_a_queried_table_or_tsv_takes_the_results_shape(args: tuple[str, ...], expected: list[str]) -> None:
    assert _run(*args).split() == expected


def test_an_invalid_query_is_one_error_line() -> None:
    result = CliRunner().invoke(list_jobs, ["--query", "[?"])
    assert result.exit_code == 1
    assert "--query: '[?' is not valid JMESPath" in result.output
