"""Run tags: what a scoring run reads from them, and the core's Dagster names matching the Dagster layer's."""

import pytest

from batchpoint.errors import SpecError
from batchpoint.orchestration.run_tags import (
    RunChoices,
    predictions_asset_path,
    run_choices,
    scoring_job_name,
    scoring_tags,
)
from batchpoint.specs.endpoint import BatchEndpoint
from dagster_project.naming import job_name, predictions_key
from dagster_project.scoring_step import reuse_mode


@pytest.mark.parametrize("endpoint", ["sales-forecast", "a1-b2-c3", "plain"])
def test_core_names_are_the_dagster_layers(endpoint: str) -> None:
    assert predictions_asset_path(endpoint) == list(predictions_key(endpoint).path)
    assert scoring_job_name(endpoint) == job_name(endpoint)


@pytest.mark.parametrize(
    ("tags", "configured", "expected"),
    [
        # data arrival: no tags, no config
        ({}, None, RunChoices(None, True, False, None)),
        ({"dagster/backfill": "abc"}, None, RunChoices(None, True, False, "abc")),
        ({"batchpoint/deployment": "blue"}, None, RunChoices("blue", True, False, None)),
        ({"batchpoint/deployment": "green"}, None, RunChoices("green", False, False, None)),
        (
            {"batchpoint/deployment": "green", "batchpoint/promote": "true"},
            None,
            RunChoices("green", True, False, None),
        ),
        ({"batchpoint/promote": "false"}, None, RunChoices(None, False, False, None)),
        ({"batchpoint/promote": "False"}, None, RunChoices(None, False, False, None)),
        ({"batchpoint/rescore": "failed-files"}, None, RunChoices(None, True, True, None)),
        ({"batchpoint/rescore": "all"}, None, RunChoices(None, True, False, None, rescore_all=True)),
        ({}, "green", RunChoices("green", False, False, None)),
        ({"batchpoint/deployment": "green"}, "green", RunChoices("green", False, False, None)),
    ],
)
def test_run_choices(tags: dict[str, str], configured: str | None, expected: RunChoices) -> None:
    assert run_choices(tags, configured_deployment=configured, default_deployment="blue") == expected


def test_tags_written_by_a_backfill_read_back_the_same() -> None:
    tags = scoring_tags(endpoint="e", deployment="green", promote=True, failed_only=True)
    assert tags == {
        "batchpoint/endpoint": "e",
        "batchpoint/deployment": "green",
        "batchpoint/promote": "true",
        "batchpoint/rescore": "failed-files",
    }
    assert run_choices(tags, configured_deployment=None, default_deployment="blue") == RunChoices(
        "green", True, True, None
    )
    plain = scoring_tags(endpoint="e", deployment="blue", promote=False, failed_only=False)
    assert "batchpoint/rescore" not in plain
    assert run_choices(plain, configured_deployment=None, default_deployment="blue").promote is False


@pytest.mark.parametrize(
    ("tags", "configured", "field", "form"),
    [
        ({"batchpoint/promote": "yes"}, None, "tags.batchpoint/promote", '"true"'),
        ({"batchpoint/rescore": "everything"}, None, "tags.batchpoint/rescore", "failed-files"),
        ({"batchpoint/deployment": "green"}, "red", "tags.batchpoint/deployment", "one deployment"),
    ],
)
def test_bad_tags_name_the_tag_and_the_valid_form(
    tags: dict[str, str], configured: str | None, field: str, form: str
) -> None:
    with pytest.raises(SpecError) as caught:
        run_choices(tags, configured_deployment=configured, default_deployment="blue")
    assert caught.value.field == field
    assert form in str(caught.value.valid_form)


@pytest.mark.parametrize(
    ("tags", "incremental", "mode"),
    [
        ({"batchpoint/rescore": "failed-files"}, False, "failed-files"),
        ({"batchpoint/rescore": "failed-files"}, True, "failed-files"),
        ({"batchpoint/rescore": "failed-files", "dagster/backfill": "b"}, True, "failed-files"),
        ({}, True, "incremental"),  # data arrival, reconciliation, a materialisation
        ({}, False, None),
        ({"dagster/backfill": "b"}, True, None),  # a backfill re-scores its months
        ({"batchpoint/rescore": "all"}, True, None),
    ],
)
def test_reuse_mode(tags: dict[str, str], incremental: bool, mode: str | None) -> None:
    endpoint = BatchEndpoint.parse({"name": "e-1", "outputs": {"incremental": incremental}})
    choices = run_choices(tags, configured_deployment=None, default_deployment=None)
    assert reuse_mode(choices, endpoint) == mode


def test_endpoints_are_incremental_unless_they_say_otherwise() -> None:
    # Azure's endpoint YAML has no `outputs`: an endpoint created from it scores only new or changed files.
    assert BatchEndpoint.parse({"name": "e-1"}).outputs.incremental is True
