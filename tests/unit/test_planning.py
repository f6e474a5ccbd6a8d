"""Planning: files sorted by key → mini-batches of mini_batch_size → shards round robin."""

import pytest

from batchpoint.errors import SpecError
from batchpoint.scoring.job import rows_lead
from batchpoint.scoring.planning import extend_plan, plan_job
from batchpoint.storage.port import ObjectInfo


def files(n: int, bucket: str = "landing") -> list[ObjectInfo]:
    # Reversed so the plan has to sort them.
    return [ObjectInfo(bucket, f"sales/2026-11/part-{i:03d}.csv", f"etag{i}", 100 + i) for i in reversed(range(n))]


@pytest.mark.parametrize(
    ("n", "size", "instances", "batch_sizes", "shard_batches"),
    [
        (0, 2, 2, [], []),
        (1, 2, 2, [1], [[0]]),
        (5, 2, 1, [2, 2, 1], [[0, 1, 2]]),
        (5, 2, 2, [2, 2, 1], [[0, 2], [1]]),
        (7, 3, 4, [3, 3, 1], [[0], [1], [2]]),
        (4, 10, 2, [4], [[0]]),
        (6, 1, 3, [1] * 6, [[0, 3], [1, 4], [2, 5]]),
    ],
)
def test_mini_batches_and_shards(
    n: int, size: int, instances: int, batch_sizes: list[int], shard_batches: list[list[int]]
) -> None:
    plan = plan_job(files(n), size, instances)
    assert [len(mb.files) for mb in plan.mini_batches] == batch_sizes
    assert [[mb.index for mb in s.mini_batches] for s in plan.shards] == shard_batches
    assert plan.file_count == n == sum(s.file_count for s in plan.shards)
    assert plan.mini_batch_count == len(batch_sizes)
    assert plan.total_bytes == sum(f.size for f in files(n))


def test_files_are_in_key_order_and_deduplicated() -> None:
    listed = files(4) + files(2)
    plan = plan_job(listed, 3, 1)
    keys = [f.key for mb in plan.mini_batches for f in mb.files]
    assert keys == sorted(keys) == [f"sales/2026-11/part-{i:03d}.csv" for i in range(4)]


def test_same_key_in_two_buckets_is_two_files() -> None:
    plan = plan_job(files(1, "a") + files(1, "b"), 1, 1)
    assert [mb.files[0].bucket for mb in plan.mini_batches] == ["a", "b"]


@pytest.mark.parametrize(("size", "instances", "field"), [(0, 1, "mini_batch_size"), (1, 0, "instance_count")])
def test_invalid_sizes_name_the_setting(size: int, instances: int, field: str) -> None:
    with pytest.raises(SpecError, match=field):
        plan_job(files(2), size, instances)


def test_extending_a_plan_numbers_new_mini_batches_on_and_keeps_the_old_ones() -> None:
    plan = plan_job(files(5), 2, 2)
    landed = [ObjectInfo("landing", "sales/2026-11/part-004.csv", "changed", 1), *files(8)[:3]]  # keys 7, 6, 5

    extended = extend_plan(plan, landed, 2)

    assert extended.mini_batches[:3] == plan.mini_batches
    assert [[f.key[-7:-4] for f in mb.files] for mb in extended.mini_batches[3:]] == [["005", "006"], ["007"]]
    assert [mb.index for mb in extended.mini_batches] == [0, 1, 2, 3, 4]
    assert [f.etag for f in extended.files if f.key.endswith("004.csv")] == ["etag4"]  # a known key stays as planned
    assert [[mb.index for mb in s.mini_batches] for s in extended.shards] == [[0, 2, 4], [1, 3]]
    assert extend_plan(plan, files(5), 2) is plan


def test_reused_rows_lead_only_when_every_reused_file_sorts_before_every_new_one() -> None:
    def files(*keys: str) -> list[ObjectInfo]:
        return [ObjectInfo("b", key, f"e-{key}", 1) for key in keys]

    assert rows_lead({"m/part-000.csv", "m/part-001.csv"}, files("m/part-002.csv", "m/part-010.csv"))
    assert not rows_lead({"m/part-000.csv", "m/part-005.csv"}, files("m/part-002.csv"))  # interleaved
    assert rows_lead({"m/part-000.csv"}, [])  # nothing new to score
    assert not rows_lead(set(), files("m/part-002.csv"))  # nothing reused
