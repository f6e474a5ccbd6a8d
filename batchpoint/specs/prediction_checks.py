"""An endpoint's ``checks:`` section: which checks of every new version block promotion, and their thresholds.

batchpoint's own field (no Azure equivalent). Every run evaluates the three checks
(``batchpoint/checks/``) right after scoring; a failed check marked ``blocking`` keeps ``latest``
where it is. Completeness blocks by default; validity and drift only report unless told to block.

    checks:
      completeness: {blocking: true}
      validity: {blocking: false, allow_nulls: false}
      drift: {blocking: false, psi_threshold: 0.2, class_share_threshold: 0.1}
"""

from __future__ import annotations

from pydantic import Field

from batchpoint.specs.base import Spec


class CompletenessCheck(Spec):
    """Every scored input file once in the predictions, with its rows less its failed items."""

    blocking: bool = True


class ValidityCheck(Spec):
    """No null or NaN predictions (unless ``allow_nulls``), the signature's columns and types, known classes."""

    blocking: bool = False
    allow_nulls: bool = False


class DriftCheck(Spec):
    """This month's predictions against the previous month's ``latest``.

    ``psi_threshold``: the largest population-stability index a numeric prediction column may have
    (0.1 is commonly read as a small shift, 0.2 as a significant one); ``class_share_threshold``:
    the largest change of one class's share for a class column (0.1 = ten percentage points).
    """

    blocking: bool = False
    psi_threshold: float = Field(default=0.2, gt=0)
    class_share_threshold: float = Field(default=0.1, gt=0, le=1)


class PredictionChecks(Spec):
    """Azure has none: batchpoint's checks of every version before it becomes ``latest``."""

    completeness: CompletenessCheck = Field(default_factory=CompletenessCheck)
    validity: ValidityCheck = Field(default_factory=ValidityCheck)
    drift: DriftCheck = Field(default_factory=DriftCheck)
