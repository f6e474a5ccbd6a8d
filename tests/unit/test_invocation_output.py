"""Where an invoked job's outputs go: its own folder, with the same layout as a monthly partition's."""

from __future__ import annotations

import pytest

from batchpoint.outputs.layout import OutputLayout


def test_monthly_layout_is_unchanged() -> None:
    layout = OutputLayout("batchpoint", "sales", "2026-11")
    assert layout.prefix == "sales/2026-11/"
    assert layout.key("v1", "predictions.csv") == "sales/2026-11/versions/v1/predictions.csv"


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [
        ("s3://batchpoint/sales/jobs/batchjob-1/", "batchpoint", "sales/jobs/batchjob-1/"),
        ("s3://results/mine", "results", "mine/"),
        ("s3://results/", "results", ""),
        ("s3://results", "results", ""),
    ],
)
def test_layout_at_a_folder_keeps_the_layout_below_it(uri: str, bucket: str, prefix: str) -> None:
    layout = OutputLayout.at(uri, "sales", "batchjob-1")
    assert (layout.bucket, layout.prefix) == (bucket, prefix)
    assert layout.latest_key == f"{prefix}latest.json"
    assert layout.uri(layout.manifest_key("v1")) == f"s3://{bucket}/{prefix}versions/v1/manifest.json"


def test_layout_at_refuses_what_is_not_an_s3_folder() -> None:
    with pytest.raises(ValueError, match=r"s3://<bucket>/<prefix>/"):
        OutputLayout.at("/tmp/out", "sales", "batchjob-1")
