"""Spec validation: Azure field names, defaults, and errors that name the field and the valid form."""

import pytest

from batchpoint.errors import SpecError
from batchpoint.specs.deployment import BatchDeployment, BatchDeploymentOutputAction
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import JobProgress
from batchpoint.specs.model_ref import parse_model_ref

BASE = {"name": "forecast-mlflow", "endpoint_name": "sales-forecast", "model": "models:/sales/1"}


def test_defaults_follow_azure() -> None:
    d = BatchDeployment.parse(BASE)
    assert d.settings.output_file_name == "predictions.csv"
    assert d.settings.output_action is BatchDeploymentOutputAction.APPEND_ROW
    assert (d.settings.retry_settings.max_retries, d.settings.retry_settings.timeout) == (3, 30)
    assert d.settings.error_threshold == -1
    assert d.workers == 1


def test_workers_is_instances_times_concurrency() -> None:
    d = BatchDeployment.parse(
        {**BASE, "resources": {"instance_count": 2}, "settings": {"max_concurrency_per_instance": 3}}
    )
    assert d.workers == 6


@pytest.mark.parametrize(
    ("ref", "uri"),
    [
        ("models:/sales/3", "models:/sales/3"),
        ("models:/sales@champion", "models:/sales@champion"),
        ("azureml:sales:7", "models:/sales/7"),
        ("azureml:sales@latest", "models:/sales@latest"),
    ],
)
def test_model_refs(ref: str, uri: str) -> None:
    assert parse_model_ref(ref).uri == uri


def test_bad_model_ref_shows_valid_forms() -> None:
    with pytest.raises(SpecError, match=r"models:/<name>/<version>"):
        BatchDeployment.parse({**BASE, "model": "sales"})


def test_unknown_field_is_named() -> None:
    with pytest.raises(SpecError, match=r"settings\.mini_batch: unknown field"):
        BatchDeployment.parse({**BASE, "settings": {"mini_batch": 2}})


@pytest.mark.parametrize("bad", [{"mini_batch_size": 0}, {"error_threshold": -2}, {"output_file_name": "a/b.csv"}])
def test_impossible_settings_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(SpecError, match="settings"):
        BatchDeployment.parse({**BASE, "settings": bad})


def test_summary_only_needs_a_script() -> None:
    with pytest.raises(SpecError, match="summary_only"):
        BatchDeployment.parse({**BASE, "settings": {"output_action": "summary_only"}})


@pytest.mark.parametrize("name", ["1abc", "a", "has_underscore", "x" * 40])
def test_endpoint_name_rules(name: str) -> None:
    with pytest.raises(SpecError, match=r"BatchEndpoint\.name"):
        BatchEndpoint.parse({"name": name})


def test_progress_stored_before_failed_items_was_named_reads_as_failed_items() -> None:
    old_row = {"mini_batches_done": 2, "mini_batches": 2, "files_done": 3, "files": 3, "failed_files": 1, "rows": 9}
    progress = JobProgress.model_validate(old_row)
    assert progress.failed_items == 1
    assert progress.model_dump()["failed_items"] == 1
    assert "failed_files" not in progress.model_dump()
