"""Azure's ``azureml://datastores/workspaceblobstore/paths/...`` output folders are folders of the output bucket."""

from __future__ import annotations

import pytest

from batchpoint.errors import SpecError
from batchpoint.sdk import Output
from batchpoint.sdk.invocation import output_path_of
from batchpoint.specs.datastore_uri import datastore_folder_in
from batchpoint.specs.job import InvokeRequest

INPUTS = {"input": {"path": "s3://landing/sales/"}}


def test_a_workspaceblobstore_path_is_kept_then_resolved_to_the_output_bucket() -> None:
    uri = "azureml://datastores/workspaceblobstore/paths/heart-batch/run-1"
    request = InvokeRequest.parse({"inputs": INPUTS, "output_path": uri})
    assert request.output_path == uri + "/"
    assert datastore_folder_in(request.output_path, "batchpoint") == "s3://batchpoint/heart-batch/run-1/"
    assert datastore_folder_in("s3://results/x/", "batchpoint") == "s3://results/x/"


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("azureml://datastores/mystore/paths/x/", "datastore 'mystore' is not one batchpoint has"),
        ("azureml://datastores/workspaceblobstore/paths/", "the path after `/paths/` is empty"),
        ("azureml://datastores/workspaceblobstore/paths/a/../b/", "has a `..` segment"),
        ("azureml://datastores/workspaceblobstore/x/", "expected `azureml://datastores/workspaceblobstore/paths/"),
        ("https://example.com/out/", "or `azureml://datastores/workspaceblobstore/paths/<prefix>/`"),
    ],
)
def test_other_forms_are_refused_with_the_valid_ones(uri: str, problem: str) -> None:
    with pytest.raises(SpecError, match="output_path") as caught:
        InvokeRequest.parse({"inputs": INPUTS, "output_path": uri})
    assert problem in str(caught.value)


def test_the_sdks_outputs_form_is_the_output_path() -> None:
    uri = "azureml://datastores/workspaceblobstore/paths/heart-batch/sdk"
    assert output_path_of(None, {"score": Output(type="uri_folder", path=uri)}) == uri
    assert output_path_of("s3://results/x/", None) == "s3://results/x/"
    with pytest.raises(SpecError, match="not both"):
        output_path_of("s3://results/x/", {"score": Output(path=uri)})
    with pytest.raises(SpecError, match="a batch job has one"):
        output_path_of(None, {"a": Output(path=uri), "b": Output(path=uri)})
