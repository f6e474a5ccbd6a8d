"""The checks of a version's predictions (issue 14), on plain records and Arrow tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from batchpoint.checks.challenger_diff import diff_predictions
from batchpoint.checks.completeness import completeness, files_accounted
from batchpoint.checks.drift import class_shares, drift, psi
from batchpoint.checks.results import CheckReport, CheckResult, CheckStatus
from batchpoint.checks.validity import validity
from batchpoint.outputs import lineage
from batchpoint.outputs.lineage import LineageConstants, LineageWriter, with_lineage
from batchpoint.outputs.version_checks import previous_month, read_lineage_for_checks, read_rows, rows_per_file

A, B, C = "s3://landing/sales/2026-11/a.csv", "s3://landing/sales/2026-11/b.csv", "s3://landing/sales/2026-11/c.csv"


def test_complete_predictions_pass() -> None:
    result = completeness({A: 10, B: 5}, {A: 10, B: 3}, {B: 2})
    assert result.status is CheckStatus.PASSED and result.blocking
    assert result.figures["rows_expected"] == 13 and result.figures["rows_predicted"] == 13
    assert result.summary == "all 2 files once, 13 rows as expected"


def test_a_removed_short_or_doubled_file_fails_completeness_and_is_named() -> None:
    result = completeness({A: 10, B: 5, C: 4}, {A: 10, B: 4, C: 8}, {}, times_seen={C: 2})
    assert result.failed
    assert result.figures["files_short"] == 1 and result.figures["files_with_extra_rows"] == 1
    assert result.figures["files_scored_twice"] == 1
    assert f"1 short of rows ({B})" in result.summary and f"1 scored twice ({C})" in result.summary
    removed = completeness({A: 10, B: 5}, {A: 10}, {})
    assert removed.failed and f"1 missing ({B})" in removed.summary


def test_a_file_whose_every_row_failed_may_be_absent() -> None:
    assert completeness({A: 10, B: 5}, {A: 10}, {B: 5}).status is CheckStatus.PASSED


def test_nan_or_null_predictions_fail_validity_unless_allowed() -> None:
    table = pa.table({"prediction": [1.0, float("nan"), None, 4.0]})
    result = validity(table, ["prediction"])
    assert result.failed and "2 of 4 predictions of 'prediction' are null or NaN" in result.summary
    assert result.per_column["prediction"]["null_or_nan"] == 2
    assert validity(table, ["prediction"], allow_nulls=True).status is CheckStatus.PASSED


def test_validity_checks_the_signatures_types_and_the_classes_seen() -> None:
    table = pa.table({"prediction": pa.array([0, 1, 2, 1], pa.int64()), "score": ["x", "y", "z", "x"]})
    wrong_type = validity(table, ["prediction", "score"], signature_types={"prediction": "long", "score": "double"})
    assert wrong_type.failed and "'score' is string, the signature says double" in wrong_type.summary
    new_class = validity(table, ["prediction"], classes={"prediction": {0, 1}})
    assert new_class.failed and "1 class(es) never seen before: 2" in new_class.summary
    assert validity(table, ["prediction"], signature_types={"prediction": "long"}).status is CheckStatus.PASSED
    missing = validity(table, ["label"])
    assert missing.failed and "column 'label' is missing" in missing.summary


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shifted_one() -> None:
    rng = np.random.default_rng(7)
    baseline = rng.normal(0, 1, 20_000)
    assert psi(rng.normal(0, 1, 20_000), baseline) < 0.01
    assert psi(rng.normal(1, 1, 20_000), baseline) > 0.5
    assert psi(np.full(100, 3.0), np.full(100, 3.0)) < 1e-6  # a constant baseline: one bin
    with pytest.raises(ValueError, match="both sides"):
        psi(np.array([]), baseline)


def test_a_first_month_has_no_baseline_and_says_so() -> None:
    result = drift(pa.table({"prediction": [1.0, 2.0]}), None, ["prediction"])
    assert result.status is CheckStatus.NOT_EVALUATED
    assert result.summary == "no baseline: the previous month's latest does not exist yet"


def test_shifted_inputs_trip_drift_with_the_psi_in_the_figures() -> None:
    rng = np.random.default_rng(3)
    baseline = pa.table({"prediction": rng.normal(100, 10, 5_000)})
    same = drift(pa.table({"prediction": rng.normal(100, 10, 5_000)}), baseline, ["prediction"])
    assert same.status is CheckStatus.PASSED and float(same.per_column["prediction"]["psi"]) < 0.05
    shifted = drift(pa.table({"prediction": rng.normal(115, 10, 5_000)}), baseline, ["prediction"])
    assert shifted.failed and "'prediction' PSI" in shifted.summary
    assert float(shifted.per_column["prediction"]["psi"]) > 0.2


def test_class_shares_drift_for_classifiers() -> None:
    before = pa.table({"prediction": [0] * 80 + [1] * 20})
    after = pa.table({"prediction": [0] * 60 + [1] * 40})
    assert class_shares([0, 0, 1, 1]) == {"0": 0.5, "1": 0.5}
    result = drift(after, before, ["prediction"], class_share_threshold=0.1)
    assert result.failed and "class shares moved by up to 20.0%" in result.summary
    assert result.per_column["prediction"]["share[1]"] == 0.4
    assert result.per_column["prediction"]["baseline_share[1]"] == 0.2


def test_only_a_failed_blocking_check_keeps_latest() -> None:
    passed = CheckResult("completeness", CheckStatus.PASSED, True, "ok")
    drifted = CheckResult("drift", CheckStatus.FAILED, False, "moved")
    first = CheckResult("drift", CheckStatus.NOT_EVALUATED, True, "no baseline")
    assert CheckReport((passed, drifted, first)).blocked_by == []
    broken = CheckResult("completeness", CheckStatus.FAILED, True, "1 missing")
    assert CheckReport((passed, broken)).blocked_by == [broken]


def test_a_result_round_trips_through_the_manifests_form() -> None:
    result = CheckResult("drift", CheckStatus.FAILED, False, "moved", {"columns_compared": 1}, {"p": {"psi": 0.3}})
    assert CheckResult.from_dict(result.to_dict()) == result


def test_a_scripts_files_are_accounted_once_and_a_failed_one_is_not_expected() -> None:
    passed = files_accounted([A, B], {A: 1, B: 1, C: 1}, inputs=[A, B, C])  # C failed, its mini-batch ran
    assert passed.status is CheckStatus.PASSED and passed.figures["files"] == 2
    failed = files_accounted([A, B], {A: 2}, inputs=[A, B])
    assert failed.failed and failed.summary == f"files 1 missing ({B}); 1 scored twice ({A})"


@pytest.mark.parametrize(
    ("partition", "before"),
    [("2026-05", "2026-04"), ("2026-01", "2025-12"), ("2026-13", None), ("batchjob-1", None), ("26-05", None)],
)
def test_the_baseline_is_the_month_before(partition: str, before: str | None) -> None:
    assert previous_month(partition) == before


def test_a_scripts_text_rows_read_as_typed_columns_and_unreadable_rows_as_none(tmp_path: Path) -> None:
    rows = tmp_path / "predictions.csv"
    rows.write_text("part-0.csv 1.5 north\npart-0.csv 2.5 south\n")
    table = read_rows(rows, "rows")
    assert table is not None and table.num_rows == 2 and pa.types.is_floating(table.column(1).type)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a 1\nb 2 3 4\n")
    assert read_rows(ragged, "rows") is None
    assert read_rows(tmp_path / "absent.csv", "rows") is None


def test_a_report_names_what_blocks_and_reads_back() -> None:
    results = (
        CheckResult("completeness", CheckStatus.FAILED, True, "files 1 missing (x)"),
        CheckResult("drift", CheckStatus.FAILED, False, "'prediction' PSI 0.400 (threshold 0.2)"),
    )
    report = CheckReport(results, "2026-04", "v1", 0.25, step_seconds={"predictions": 0.125, "drift": 0.125})
    assert [r.name for r in report.blocked_by] == ["completeness"]
    assert report.blocking_note() == "check completeness failed: files 1 missing (x)"
    assert CheckReport.from_dict(report.to_dict()) == report
    assert report.to_dict()["blocked"] is True


def _lineage(values: dict[str, list[object]], files: list[str]) -> pa.Table:
    return pa.table({**values, "input_uri": files, "row_index": list(range(len(files)))})


def test_a_challenger_is_joined_on_file_and_row_and_the_rows_that_differ_most_come_first() -> None:
    files = [A, A, A, B]
    champion = _lineage({"label": ["x", "y", "x", "y"], "score": [1.0, 2.0, 3.0, 4.0]}, files)
    challenger = _lineage({"label": ["x", "x", "x", "y"], "score": [1.0, 2.5, 3.0, 9.0]}, files).slice(1)

    diff = diff_predictions(champion, challenger, ["label", "score"], versions=("v1", "v2"))

    assert (diff.rows_compared, diff.only_in_champion, diff.only_in_challenger) == (3, 1, 0)
    label, score = diff.columns
    assert label.kind == "classes" and label.agreement == pytest.approx(2 / 3)
    assert score.kind == "numbers" and score.max_abs_diff == 5.0 and score.mean_abs_diff == pytest.approx(5.5 / 3)
    assert [(r["column"], r["latest"], r["challenger"]) for r in diff.top_rows][:1] == [("label", "y", "x")]
    assert ("score", 4.0, 9.0) in [(r["column"], r["latest"], r["challenger"]) for r in diff.top_rows]
    assert "label: agreement 66.67%" in diff.text() and "score: mean |diff| 1.83333, max |diff| 5" in diff.text()
    same = diff_predictions(champion, champion, ["label", "score"], versions=("v1", "v1"))
    assert same.columns[0].agreement == 1.0 and same.columns[1].max_abs_diff == 0.0 and same.top_rows == ()


def test_the_checks_read_a_lineage_files_predictions_uris_and_row_indices_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lineage, "ROW_GROUP_ROWS", 1)  # a row group per write, as many mini-batches give
    constants = LineageConstants("model", "3", "blue", "job-1")
    path = tmp_path / "predictions.parquet"
    with LineageWriter(path) as writer:  # a file's rows written twice, in row groups of their own
        for uris in (["s3://in/a.csv", "s3://in/b.csv"], ["s3://in/b.csv"]):
            rows = pa.table({"prediction": np.arange(len(uris) * 2, dtype=float), "file": ["x"] * (len(uris) * 2)})
            writer.write(with_lineage(rows, [(u, 2) for u in uris], constants, datetime.now(UTC)))
    table = read_lineage_for_checks(path)
    assert table.column_names == ["prediction", "input_uri", "row_index"]
    assert rows_per_file(table) == ({"s3://in/a.csv": 2, "s3://in/b.csv": 4}, {"s3://in/b.csv": 2})


def _uri_encoded(uris: list[str], index: list[int]) -> pa.Table:
    encoded = pa.array(uris).dictionary_encode()
    return pa.table({"prediction": np.zeros(len(uris)), "input_uri": encoded, "row_index": pa.array(index, pa.int64())})


@pytest.mark.parametrize(
    ("uris", "index", "rows", "twice"),
    [
        (["a", "a", "b", "b", "b"], [0, 1, 0, 1, 2], {"a": 2, "b": 3}, {}),  # each row once
        (["a", "b", "a", "b"], [0, 0, 1, 1], {"a": 2, "b": 2}, {}),  # files interleaved
        (["a", "a", "b"], [0, 0, 0], {"a": 2, "b": 1}, {"a": 2}),  # a's first row twice, the count right
        (["a", "a", "a", "a"], [0, 1, 0, 1], {"a": 4}, {"a": 2}),  # a scored twice
        (["a", "a"], [0, 7], {"a": 2}, {}),  # an index past the file's rows: counted exactly, not twice
        ([], [], {}, {}),
    ],
)
def test_rows_per_file_counts_rows_and_finds_a_row_written_twice(
    uris: list[str], index: list[int], rows: dict[str, int], twice: dict[str, int]
) -> None:
    assert rows_per_file(_uri_encoded(uris, index)) == (rows, twice)


def test_rows_per_file_reads_chunks_with_dictionaries_of_their_own() -> None:
    # Code 0 is "a" in the first chunk and "b" in the second: counted by name, not by code.
    uris = pa.chunked_array([pa.array(["a", "a"]).dictionary_encode(), pa.array(["b", "b", "b"]).dictionary_encode()])
    chunks = pa.table({"input_uri": uris, "row_index": pa.array([0, 1, 0, 1, 2], pa.int64())})
    assert rows_per_file(chunks) == ({"a": 2, "b": 3}, {})
