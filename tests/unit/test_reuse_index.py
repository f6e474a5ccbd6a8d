"""The pure parts of reuse: which earlier mini-batches are unchanged, the reuse key, the manifest section."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.reuse_index import OutputSegment, ReuseIndex
from batchpoint.scoring.reuse import Reused
from batchpoint.scoring.reuse_key import reuse_key
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.segment_reuse import unchanged_segments
from batchpoint.scoring.segments import copy_reused_segments
from batchpoint.specs.deployment import BatchDeployment


def segment(*files: str, start: int = 0) -> OutputSegment:
    return OutputSegment(tuple((f"s3://b/{f}", f"e-{f}") for f in files), len(files), start, 10 * len(files))


AB, CD, E = segment("a", "b"), segment("c", "d", start=20), segment("e", start=40)


@pytest.mark.parametrize(
    ("inputs", "kept"),
    [
        ({"a": "e-a", "b": "e-b", "c": "e-c", "d": "e-d", "e": "e-e"}, [AB, CD, E]),
        ({"a": "e-a", "b": "e-b", "c": "e-c", "d": "e-d", "e": "e-e", "f": "e-f"}, [AB, CD, E]),  # a file added
        ({"a": "e-a", "b": "e-b", "c": "NEW", "d": "e-d", "e": "e-e"}, [AB, E]),  # c changed: [c, d] re-scored
        ({"a": "e-a", "b": "e-b", "d": "e-d", "e": "e-e"}, [AB, E]),  # c removed: d is scored alone
        ({}, []),
    ],
)
def test_a_mini_batch_is_reused_only_when_all_its_files_are_unchanged(
    inputs: dict[str, str], kept: list[OutputSegment]
) -> None:
    assert list(unchanged_segments([AB, CD, E], {f"s3://b/{k}": v for k, v in inputs.items()})) == kept


def test_a_file_is_never_reused_twice_nor_from_an_empty_segment() -> None:
    current = {f"s3://b/{k}": f"e-{k}" for k in "abc"}
    assert unchanged_segments([AB, segment("b", "c"), OutputSegment((), 0, 0, 0)], current) == (AB,)


def test_the_index_reads_back_and_a_broken_segment_has_no_files() -> None:
    index = ReuseIndex("k", "bytes", (AB, CD))
    manifest = Manifest("j", "e", "2026-11", "v", "Completed", reuse_index=index)
    assert Manifest.from_dict(manifest.to_dict()).reuse_index == index
    assert Manifest.from_dict({"status": "Completed"}).reuse_index is None  # an older manifest
    broken = OutputSegment.from_dict({"files": ["s3://b/a", "s3://b/b"], "etags": ["x"], "rows": 2})
    assert broken.files == ()


def _scoring(tmp_path: Path) -> tuple[BatchDeployment, ResolvedModel, WorkerRuntime]:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "score.py").write_text("def run(mini_batch):\n    return mini_batch\n")
    deployment = BatchDeployment.parse(
        {
            "name": "scores",
            "endpoint_name": "e-1",
            "model": "azureml:m:1",
            "code_configuration": {"code": str(code), "scoring_script": "score.py"},
            "settings": {"mini_batch_size": 2},
        }
    )
    model = ResolvedModel("m", "1", "azureml:m:1", None, None, tmp_path / "m" / "model")
    runtime = WorkerRuntime("script", Path("/usr/bin/python3"), code, "score.py", tmp_path / "m")
    return deployment, model, runtime


def test_the_reuse_key_changes_with_what_decides_the_rows_only(tmp_path: Path) -> None:
    deployment, model, runtime = _scoring(tmp_path)
    key = reuse_key(deployment, model, runtime)
    faster = deployment.model_copy(
        update={
            "settings": deployment.settings.model_copy(update={"mini_batch_size": 8, "max_concurrency_per_instance": 4})
        }
    )
    assert reuse_key(faster, model, runtime) == key
    assert reuse_key(deployment, dataclasses.replace(model, version="2"), runtime) != key
    (runtime.code_dir / "__pycache__").mkdir()
    (runtime.code_dir / "__pycache__" / "score.cpython-311.pyc").write_bytes(b"\0")
    assert reuse_key(deployment, model, runtime) == key
    (runtime.code_dir / "score.py").write_text("def run(mini_batch):\n    return []\n")  # changed in place
    assert reuse_key(deployment, model, runtime) != key


def test_reused_rows_are_copied_by_their_place_and_new_ones_placed_after(tmp_path: Path) -> None:
    """The text rows of an earlier output, cut by segment, land in the new output with their new places."""
    earlier = tmp_path / "earlier.csv"
    earlier.write_bytes(b"a 1\nb 2\nc 3\n")
    first, third = OutputSegment((("s3://b/a", "e1"),), 1, 0, 4), OutputSegment((("s3://b/c", "e3"),), 1, 8, 4)
    reused = Reused("v1", {}, segments=(first, third), source=earlier)
    result = tmp_path / "mb-0.txt"
    result.write_bytes(b"d 4\ne 5\n")
    with MergedOutput(tmp_path / "out" / "predictions.csv") as out:
        placed = copy_reused_segments(out, reused, "rows")
        out.add(result, "rows", 2)
    assert (tmp_path / "out" / "predictions.csv").read_bytes() == b"a 1\nc 3\nd 4\ne 5\n"
    assert [(s.start, s.length, s.rows) for s in placed] == [(0, 4, 1), (4, 4, 1)]
    assert (out.rows, out.position) == (4, 16)
