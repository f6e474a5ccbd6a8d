"""A challenger's predictions against the month's ``latest``, row by row (``batch-endpoint compare``).

Pure. Both sides are lineage tables (the built-in MLflow scorer's: prediction columns, then
``input_uri`` and ``row_index``), joined on (``input_uri``, ``row_index``): the same input row
scored by two deployments. Per prediction column present on both sides:

- a class column (not floating): the agreement rate, the share of rows with the same class;
- a numeric column: the mean and max absolute difference.

The rows that differ most (largest absolute difference, or a class that changed) are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

KEYS = ("input_uri", "row_index")
TOP_ROWS = 10


@dataclass(frozen=True)
class ColumnDiff:
    """How one prediction column differs."""

    column: str
    kind: str
    """``classes`` or ``numbers``."""
    agreement: float | None = None
    mean_abs_diff: float | None = None
    max_abs_diff: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (figures rounded to 6 decimals)."""
        figures = {"agreement": self.agreement, "mean_abs_diff": self.mean_abs_diff, "max_abs_diff": self.max_abs_diff}
        return {"column": self.column, "kind": self.kind} | {
            k: round(v, 6) for k, v in figures.items() if v is not None
        }


@dataclass(frozen=True)
class ChallengerDiff:
    """The comparison of a challenger version with the champion (``latest``) of the same month."""

    champion_version: str
    challenger_version: str
    rows_compared: int
    only_in_champion: int
    only_in_challenger: int
    columns: tuple[ColumnDiff, ...]
    top_rows: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON (``compare/report.json`` in the challenger's version, the manifest's ``compare``)."""
        return {
            "champion_version": self.champion_version,
            "challenger_version": self.challenger_version,
            "rows_compared": self.rows_compared,
            "only_in_champion": self.only_in_champion,
            "only_in_challenger": self.only_in_challenger,
            "columns": [c.to_dict() for c in self.columns],
            "top_rows": list(self.top_rows),
        }

    def text(self) -> str:
        """The report as people read it (``compare/report.txt``, printed by the CLI)."""
        lines = [
            f"challenger {self.challenger_version} against latest {self.champion_version}",
            f"rows compared: {self.rows_compared} (only in latest: {self.only_in_champion}, "
            f"only in the challenger: {self.only_in_challenger})",
        ]
        for c in self.columns:
            if c.kind == "classes":
                lines.append(f"{c.column}: agreement {c.agreement:.2%}")
            else:
                lines.append(f"{c.column}: mean |diff| {c.mean_abs_diff:.6g}, max |diff| {c.max_abs_diff:.6g}")
        if self.top_rows:
            lines.append(f"rows that differ most ({len(self.top_rows)}):")
            for row in self.top_rows:
                lines.append(
                    f"  {row['input_uri']} row {row['row_index']}: {row['column']} {row['latest']!r} -> "
                    f"{row['challenger']!r}"
                )
        return "\n".join(lines) + "\n"


def diff_predictions(
    champion: pa.Table,
    challenger: pa.Table,
    columns: Sequence[str],
    *,
    versions: tuple[str, str],
    top: int = TOP_ROWS,
) -> ChallengerDiff:
    """Join ``champion`` and ``challenger`` on (input file, row index) and compare ``columns``.

    ``versions`` names (champion, challenger).
    """
    shared = [c for c in columns if c in champion.column_names and c in challenger.column_names]
    left = champion.select([*KEYS, *shared])
    right = challenger.select([*KEYS, *shared]).rename_columns([*KEYS, *(f"{c}__challenger" for c in shared)])
    joined = left.join(right, list(KEYS), join_type="inner")
    diffs: list[ColumnDiff] = []
    candidates: list[tuple[float, dict[str, Any]]] = []
    for name in shared:
        before, after = joined.column(name), joined.column(f"{name}__challenger")
        if pa.types.is_floating(before.type) or pa.types.is_floating(after.type):
            a = before.to_numpy(zero_copy_only=False).astype("float64")
            b = after.to_numpy(zero_copy_only=False).astype("float64")
            gap = np.abs(a - b)
            finite = gap[np.isfinite(gap)]
            diffs.append(
                ColumnDiff(
                    name,
                    "numbers",
                    mean_abs_diff=float(finite.mean()) if finite.size else 0.0,
                    max_abs_diff=float(finite.max()) if finite.size else 0.0,
                )
            )
            for i in np.argsort(-np.nan_to_num(gap, nan=np.inf))[:top]:
                if gap[i] > 0 or np.isnan(gap[i]):
                    candidates.append((float(np.nan_to_num(gap[i], nan=np.inf)), _row(joined, int(i), name)))
        else:
            same = pc.equal(before, after).fill_null(False)
            agreed = int(pc.sum(same).as_py() or 0)
            diffs.append(ColumnDiff(name, "classes", agreement=agreed / joined.num_rows if joined.num_rows else 1.0))
            changed = pc.indices_nonzero(pc.invert(same)).to_pylist()[:top]
            candidates += [(np.inf, _row(joined, int(i), name)) for i in changed]
    candidates.sort(key=lambda c: -c[0])
    return ChallengerDiff(
        champion_version=versions[0],
        challenger_version=versions[1],
        rows_compared=joined.num_rows,
        only_in_champion=champion.num_rows - joined.num_rows,
        only_in_challenger=challenger.num_rows - joined.num_rows,
        columns=tuple(diffs),
        top_rows=tuple(row for _, row in candidates[:top]),
    )


def _row(joined: pa.Table, i: int, column: str) -> dict[str, Any]:
    return {
        "input_uri": joined.column("input_uri")[i].as_py(),
        "row_index": joined.column("row_index")[i].as_py(),
        "column": column,
        "latest": joined.column(column)[i].as_py(),
        "challenger": joined.column(f"{column}__challenger")[i].as_py(),
    }
