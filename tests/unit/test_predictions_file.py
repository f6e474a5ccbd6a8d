"""Azure's MLflow no-code output: row index within its file, the prediction, the file name."""

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batchpoint.errors import ScoringError
from batchpoint.outputs.lineage import LineageConstants, with_lineage
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.predictions_file import PredictionsFile, prediction_cells, row_positions

AZURE_NAMES = ["row", "prediction", "file"]
CONSTANTS = LineageConstants("m", "1", "blue", "job-1")


def read_azure(path: Path) -> pd.DataFrame:
    """How Azure's own notebooks read predictions.csv."""
    return pd.read_csv(path, names=AZURE_NAMES)


def arrow_stream(tmp_path: Path, table: pa.Table, name: str) -> Path:
    path = tmp_path / name
    with pa.ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table)
    return path


def test_row_positions_restart_at_zero_for_each_file() -> None:
    assert row_positions([3, 0, 2]).tolist() == [0, 1, 2, 0, 1]
    assert row_positions([]).tolist() == []


def test_rows_are_indexed_within_their_file_across_mini_batches(tmp_path: Path) -> None:
    first = pa.table({"prediction": [1.5, 2.5, 3.5], "file": ["a.csv", "a.csv", "b.csv"]})
    second = pa.table({"prediction": [4.5, 5.5], "file": ["c.csv", "c.csv"]})
    out_path = tmp_path / "predictions.csv"
    with MergedOutput(out_path, lineage_path=tmp_path / "predictions.parquet", constants=CONSTANTS) as out:
        out.add(arrow_stream(tmp_path, first, "0.arrow"), "arrow", 3, [("s3://in/a.csv", 2), ("s3://in/b.csv", 1)])
        out.add(arrow_stream(tmp_path, second, "1.arrow"), "arrow", 2, [("s3://in/c.csv", 2)])
    assert out_path.read_text() == "0,1.5,a.csv\n1,2.5,a.csv\n0,3.5,b.csv\n0,4.5,c.csv\n1,5.5,c.csv\n"
    frame = read_azure(out_path)
    assert frame["row"].tolist() == [0, 1, 0, 0, 1] and frame["file"].tolist()[-1] == "c.csv"
    assert out.columns == ("row", "prediction", "file")
    # The typed lineage Parquet keeps its own form: predictions, file, then lineage.
    lineage = pq.read_table(tmp_path / "predictions.parquet")
    assert lineage.column_names[:3] == ["prediction", "file", "input_uri"]
    assert lineage["row_index"].to_pylist() == frame["row"].tolist()


def test_rows_the_files_do_not_account_for_are_refused(tmp_path: Path) -> None:
    table = pa.table({"prediction": [1.0, 2.0], "file": ["a.csv", "a.csv"]})
    with MergedOutput(tmp_path / "p.csv") as out, pytest.raises(ScoringError, match="account for 1"):
        out.add(arrow_stream(tmp_path, table, "0.arrow"), "arrow", 2, [("s3://in/a.csv", 1)])


def test_a_2d_output_is_one_json_list_cell_per_row(tmp_path: Path) -> None:
    table = pa.table({"prediction_0": [0.25, 0.5], "prediction_1": [0.75, 0.5], "file": ["a,b.csv", "a,b.csv"]})
    with PredictionsFile(tmp_path / "p.csv") as out:
        out.append(table, np.arange(2))
    text = (tmp_path / "p.csv").read_text()
    assert text == '0,"[0.25, 0.75]","a,b.csv"\n1,"[0.5, 0.5]","a,b.csv"\n'
    frame = read_azure(tmp_path / "p.csv")
    assert frame["prediction"].tolist() == ["[0.25, 0.75]", "[0.5, 0.5]"] and frame["file"][0] == "a,b.csv"


def test_named_outputs_are_one_json_object_cell_per_row(tmp_path: Path) -> None:
    table = pa.table({"label": ["x", None], "score": [0.9, 0.1], "file": ["a.csv", "a.csv"]})
    with PredictionsFile(tmp_path / "p.csv") as out:
        out.append(table, np.arange(2))
    frame = read_azure(tmp_path / "p.csv")
    assert frame["prediction"].tolist() == ['{"label": "x", "score": 0.9}', '{"label": null, "score": 0.1}']
    assert frame["row"].tolist() == [0, 1]


def test_a_list_valued_output_is_a_json_list_and_a_single_one_stays_bare() -> None:
    nested = pa.table({"prediction": pa.array([[1, 2], [3]], pa.list_(pa.int64()))})
    assert prediction_cells(nested).to_pylist() == ["[1, 2]", "[3]"]
    single = pa.table({"prediction": ["yes", "no"]})
    assert prediction_cells(single).to_pylist() == ["yes", "no"]


def test_the_csv_reads_back_with_index_col_too(tmp_path: Path) -> None:
    with PredictionsFile(tmp_path / "p.csv") as out:
        out.append(pa.table({"prediction": [7, 8], "file": ["a.csv", "a.csv"]}), np.arange(2))
    frame = pd.read_csv(io.StringIO((tmp_path / "p.csv").read_text()), index_col=0, names=AZURE_NAMES)
    assert frame.index.tolist() == [0, 1] and frame["prediction"].tolist() == [7, 8]


def test_a_deferred_output_takes_each_row_index_from_the_lineage(tmp_path: Path) -> None:
    new = pa.table({"prediction": [3.0, 4.0], "file": ["b.csv", "b.csv"]})
    old = pa.table({"prediction": [1.0, 2.0], "file": ["a.csv", "a.csv"]})
    earlier = with_lineage(old, [("s3://in/a.csv", 2)], CONSTANTS, datetime(2026, 11, 1, tzinfo=UTC))
    with MergedOutput(
        tmp_path / "p.csv", lineage_path=tmp_path / "p.parquet", constants=CONSTANTS, deferred=True
    ) as out:
        out.add(arrow_stream(tmp_path, new, "0.arrow"), "arrow", 2, [("s3://in/b.csv", 2)])
        out.finish_with(earlier, {"s3://in/a.csv": 0, "s3://in/b.csv": 1})
    assert (tmp_path / "p.csv").read_text() == "0,1,a.csv\n1,2,a.csv\n0,3,b.csv\n1,4,b.csv\n"
