"""The checks of a version's predictions (issue 14), on plain records and Arrow tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from batchpoint.checks.completeness import completeness
from batchpoint.checks.drift import class_shares, drift, psi
from batchpoint.checks.gate import blocking_failures, promotion_allowed
from batchpoint.checks.results import CheckResult, CheckStatus
from batchpoint.checks.validity import validity

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
    assert promotion_allowed([passed, drifted, first])
    broken = CheckResult("completeness", CheckStatus.FAILED, True, "1 missing")
    assert not promotion_allowed([passed, broken]) and blocking_failures([passed, broken]) == [broken]


def test_a_result_round_trips_through_the_manifests_form() -> None:
    result = CheckResult("drift", CheckStatus.FAILED, False, "moved", {"columns_compared": 1}, {"p": {"psi": 0.3}})
    assert CheckResult.from_dict(result.to_dict()) == result
