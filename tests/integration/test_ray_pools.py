"""Issue 11: a job's workers in a warm Ray pool, on a multi-node Ray cluster on this machine.

Each test starts its own cluster (``ray.cluster_utils.Cluster``): a head with no CPUs, which keeps
the pools' keepers, and two worker nodes of one CPU each, where the node agents go. Scoring is
``run_scoring_job`` with ``ray_hosts``; inputs and outputs are in the embedded stack's S3. Every
check reads what a user reads: the manifest (nodes, pool id, attempts), the output, the logs, plus
the pool's own account of itself (``PoolKeeper.describe``) and the processes on the machine.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import ray
from ray.cluster_utils import Cluster

from batchpoint.config import Settings
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.layout import OutputLayout
from batchpoint.ray_compute.hosts import ray_hosts
from batchpoint.ray_compute.pool_keys import NAMESPACE, PREFIX
from batchpoint.ray_compute.ray_host import RayWorker
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.worker_host import HostFactory, RunRequest
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectInfo
from tests.integration.test_grouped_scoring import lineage, records
from tests.integration.test_scoring_job import (  # noqa: F401 -- fixtures of that module
    _predictions,
    assert_same_predictions,
    features,
    put_inputs,
    registered,
    settings,
)
from tests.integration.test_script_jobs import ENDPOINT, Harness, output_lines

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# init() takes a ticket (0, 1, ... in the order the processes get there); from ticket INIT_GATE_FROM
# on it waits until the file INIT_GATE exists. Then it appends its pid to INIT_LOG.
# run() waits until INIT_LOG holds WAIT_FOR_INITS pids (so every slot takes part: a ready slot does
# not wait for the others), scores CSVs and, for the file named HANG_ON, hangs once (the first
# attempt leaves a marker).
COUNTING = """
import os
import time

import pandas as pd


def init():
    gate = os.environ.get("INIT_GATE")
    if gate:
        ticket = 0
        while True:
            try:
                os.close(os.open(f"{gate}.ticket-{ticket}", os.O_CREAT | os.O_EXCL))
                break
            except FileExistsError:
                ticket += 1
        while ticket >= int(os.environ["INIT_GATE_FROM"]) and not os.path.exists(gate):
            time.sleep(0.05)
    with open(os.environ["INIT_LOG"], "a") as log:
        log.write(f"{os.getpid()}\\n")


def run(mini_batch):
    wanted = int(os.environ.get("WAIT_FOR_INITS", "0"))
    while wanted and len(open(os.environ["INIT_LOG"]).read().split()) < wanted:
        time.sleep(0.05)
    frames = []
    for path in mini_batch:
        name = os.path.basename(path)
        marker = os.environ["MARKERS"] + "/" + name
        if name == os.environ.get("HANG_ON") and not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(600)
        time.sleep(float(os.environ.get("SLOW", "0")))
        data = pd.read_csv(path)
        frames.append(pd.DataFrame({"id": data["id"], "prediction": data["x"] * 3, "file": name}))
    return pd.concat(frames)
"""


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A head (no CPUs: keepers only) and two one-CPU worker nodes, this process connected as a driver."""
    ray_cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        ray_cluster.add_node(num_cpus=1)
    ray_cluster.wait_for_nodes()
    ray.init(address=ray_cluster.address, namespace=NAMESPACE, log_to_driver=False)
    try:
        yield ray_cluster
    finally:
        ray.shutdown()
        ray_cluster.shutdown()


@pytest.fixture
def harness(store_and_broker: Settings, unique_name: str, tmp_path: Path) -> Harness:
    settings = dataclasses.replace(store_and_broker, output_bucket=f"{unique_name}-out", data_dir=tmp_path / "data")  # noqa: F811
    store = open_datastore(settings)
    store.ensure_bucket(unique_name)
    return Harness(settings, store, unique_name, tmp_path)


def counting_deployment(
    tmp_path: Path, *, instances: int = 2, per_instance: int = 1, **variables: str
) -> BatchDeployment:
    (tmp_path / "markers").mkdir(exist_ok=True)
    return BatchDeployment.parse(
        {
            "name": "counting",
            "endpoint_name": ENDPOINT,
            "model": "azureml:m:1",
            "compute": "azureml:cpu-cluster",
            "code_configuration": {"code": "./code", "scoring_script": "score.py"},
            "resources": {"instance_count": instances},
            "settings": {
                "max_concurrency_per_instance": per_instance,
                "mini_batch_size": 1,
                "retry_settings": {"max_retries": 2, "timeout": 4},
                "environment_variables": {
                    "INIT_LOG": str(tmp_path / "inits.txt"),
                    "MARKERS": str(tmp_path / "markers"),
                    **variables,
                },
            },
        }
    )


def score(
    harness: Harness,
    deployment: BatchDeployment,
    inputs: list[ObjectInfo],
    job_id: str,
    compute: ComputeSpec | None = None,
    *,
    on_ray: bool = True,
) -> JobResult:
    model = harness.model()
    script = harness.root / "code" / "score.py"
    # Written once: the pool's id covers the code, and a rewritten file is new code.
    runtime = harness.runtime(COUNTING, model) if not script.exists() else _runtime_of(harness, model)
    hosts = ray_hosts(harness.settings, None, compute) if on_ray else None
    return harness.score(deployment, runtime, model, inputs, job_id, hosts)


def _runtime_of(harness: Harness, model: ResolvedModel) -> WorkerRuntime:
    code = harness.root / "code"
    return WorkerRuntime(
        kind="script", python=Path(sys.executable), code_dir=code, entry="score.py", model_dir=model.model_dir
    )


def inits(tmp_path: Path) -> list[str]:
    path = tmp_path / "inits.txt"
    return path.read_text().split() if path.exists() else []


def eight_files(harness: Harness) -> list[ObjectInfo]:
    return harness.put_csvs({f"part-{i}.csv": 3 + i for i in range(8)})


def keeper_names() -> list[str]:
    names = [n for n in ray.util.list_named_actors() if isinstance(n, str) and n.startswith(PREFIX)]
    return [n for n in names if "-s" not in n.rsplit(".", 1)[-1]]


def describe_pool() -> dict[str, Any]:
    (name,) = keeper_names()
    return dict(ray.get(ray.get_actor(name).describe.remote()))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


def slot_threads() -> list[str]:
    """The names of the pool's slot threads still alive in this process."""
    return [t.name for t in threading.enumerate() if t.name.startswith("slot-") and t.is_alive()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_instances_run_on_distinct_nodes_and_score_as_in_process(
    cluster: Cluster, harness: Harness, tmp_path: Path
) -> None:
    inputs = eight_files(harness)
    deployment = counting_deployment(tmp_path, WAIT_FOR_INITS="2")

    on_ray = score(harness, deployment, inputs, "job-ray")
    in_process = score(harness, deployment, inputs, "job-local", on_ray=False)

    assert on_ray.status == "Completed", on_ray.error
    workers = on_ray.manifest.workers
    assert workers is not None
    assert workers.host == "ray"
    worker_nodes = {node.node_id for node in cluster.worker_nodes}
    assert set(workers.nodes) == worker_nodes  # one agent on each worker node, none on the head
    ran_on = {m.node for m in on_ray.manifest.mini_batches}
    assert ran_on <= worker_nodes
    assert len(ran_on) == 2
    assert "spread over distinct nodes" in (workers.placement or "")
    assert sorted(output_lines(harness, on_ray)) == sorted(output_lines(harness, in_process))
    assert on_ray.rows == sum(3 + i for i in range(8))
    # Each driver's log came back from its node.
    assert {"logs/user/stdout/worker-0.txt", "logs/user/stdout/worker-1.txt"} <= set(on_ray.manifest.logs)


def test_second_run_reuses_the_pool_and_runs_no_init(cluster: Cluster, harness: Harness, tmp_path: Path) -> None:
    inputs = eight_files(harness)
    deployment = counting_deployment(tmp_path, per_instance=2, WAIT_FOR_INITS="4")

    first = score(harness, deployment, inputs, "job-1")
    second = score(harness, deployment, inputs, "job-2")

    assert first.status == second.status == "Completed"
    one, two = first.manifest.workers, second.manifest.workers
    assert one is not None and two is not None
    assert one.pool_id == two.pool_id
    assert (one.reused, two.reused) == (False, True)
    assert (one.started_workers, two.started_workers, two.warm_workers) == (4, 0, 4)
    assert len(inits(tmp_path)) == 4  # init() once per process over both runs
    assert output_lines(harness, first) == output_lines(harness, second)

    changed = counting_deployment(tmp_path, per_instance=2, WAIT_FOR_INITS="4", GREETING="a new setting")
    third = score(harness, changed, inputs, "job-3")
    third_workers = third.manifest.workers
    assert third_workers is not None
    assert third_workers.pool_id != one.pool_id
    assert third_workers.reused is False
    # The old pool drains: its keeper ends once nothing is leased, and only the new one is left.
    wait_until(lambda: len(keeper_names()) == 1, 60, "the old pool to drain")


def test_idle_pool_scales_down_to_min_instances(cluster: Cluster, harness: Harness, tmp_path: Path) -> None:
    inputs = eight_files(harness)
    compute = ComputeSpec(name="cpu-cluster", min_instances=1, max_instances=2, idle_time_before_scale_down=2)
    # Both slots take part (WAIT_FOR_INITS): otherwise one could score every mini-batch while the
    # other is still in init(), and the idle timer could end that agent before its init() did
    # (CI, session 8: one init, not two).
    deployment = counting_deployment(tmp_path, WAIT_FOR_INITS="2")
    result = score(harness, deployment, inputs, "job-1", compute)
    assert result.status == "Completed"
    pids = [int(p) for p in inits(tmp_path)]
    assert len(pids) == 2 and all(alive(p) for p in pids)

    wait_until(lambda: describe_pool()["sets"][0]["alive"] == [True, False], 60, "scale-down to min_instances")
    # Agent 1's driver ended with it; agent 0's stays warm.
    wait_until(lambda: sum(alive(p) for p in pids) == 1, 30, "the scaled-down agent's driver to end")
    again = score(harness, deployment, inputs, "job-2", compute)  # inits.txt holds 2 already: no wait
    assert again.status == "Completed"
    assert again.manifest.workers is not None
    assert again.manifest.workers.warm_workers == 1
    # Agent 1 is back: the job's set had both its instances again (a node each in the manifest).
    assert len(again.manifest.workers.nodes) == 2
    # Its driver starts within the job, or after it when the warm one scored every mini-batch
    # first (the job does not wait for it). After the job the set idles again: the pool goes back
    # to min_instances, whether or not that driver got up in the 2 s (it did not, once, on a
    # loaded machine: CI, session 12, when this test waited for its init()).
    wait_until(lambda: describe_pool()["sets"][0]["alive"] == [True, False], 60, "scale-down to min_instances again")


def test_a_run_warms_every_slot_of_its_pool_and_does_not_wait_for_a_late_one(
    cluster: Cluster, harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gate = tmp_path / "init-gate"
    # The first process to get to init() goes through; the second waits for the gate.
    deployment = counting_deployment(tmp_path, INIT_GATE=str(gate), INIT_GATE_FROM="1")
    with caplog.at_level(logging.INFO):
        first = score(harness, deployment, harness.put_csvs({"part-0.csv": 3}), "job-1")  # one mini-batch

    assert first.status == "Completed", first.error
    workers = first.manifest.workers
    assert workers is not None
    assert (workers.warm_workers, workers.started_workers) == (0, 1)  # the one that scored it
    assert first.rows == 3
    assert len({m.node for m in first.manifest.mini_batches}) == 1
    assert "was still starting when every mini-batch was done" in caplog.text
    assert len(inits(tmp_path)) == 1
    # Its slot stopped waiting when the job closed its host: no thread of the job is left in Ray
    # (one that was, when the process then shut Ray down, made Ray end the process: CI, session 11).
    wait_until(lambda: not slot_threads(), 5, "the late slot's thread to end")

    gate.touch()  # the second process finishes init() after the job, under its agent
    wait_until(lambda: len(inits(tmp_path)) == 2, 60, "the late process's init() to finish")
    second = score(harness, deployment, eight_files(harness), "job-2")
    assert second.status == "Completed", second.error
    assert second.manifest.workers is not None
    assert (second.manifest.workers.warm_workers, second.manifest.workers.started_workers) == (2, 0)
    assert len(inits(tmp_path)) == 2
    assert second.rows == sum(3 + i for i in range(8))


def test_idle_pool_with_no_min_instances_is_gone(cluster: Cluster, harness: Harness, tmp_path: Path) -> None:
    compute = ComputeSpec(name="cpu-cluster", min_instances=0, max_instances=2, idle_time_before_scale_down=1)
    deployment = counting_deployment(tmp_path, WAIT_FOR_INITS="2")  # both drivers up, both checked below
    result = score(harness, deployment, eight_files(harness), "job-1", compute)
    assert result.status == "Completed"
    pids = [int(p) for p in inits(tmp_path)]
    assert len(pids) == 2

    wait_until(lambda: not keeper_names(), 60, "the idle pool's keeper to end")
    wait_until(lambda: not any(alive(p) for p in pids), 30, "the pool's drivers to end")
    assert not [n for n in ray.util.list_named_actors() if isinstance(n, str) and n.startswith(PREFIX)]


def test_hung_run_on_a_remote_node_is_killed_at_timeout_and_replaced(
    cluster: Cluster, harness: Harness, tmp_path: Path
) -> None:
    inputs = eight_files(harness)
    # One process: the replacement is its own slot's (with two, the other could take the retry first).
    result = score(harness, counting_deployment(tmp_path, instances=1, HANG_ON="part-3.csv"), inputs, "job-hang")

    assert result.status == "Completed", result.error
    by_index = {m.index: m for m in result.manifest.mini_batches}
    assert by_index[3].attempts == 2
    assert by_index[3].node in {node.node_id for node in cluster.worker_nodes}
    assert len(inits(tmp_path)) == 2  # the process, and the one that replaced it when it was killed
    assert "no answer from run() within 4s" in harness.logs(result)["logs/user/job_result.txt"]
    assert result.rows == sum(3 + i for i in range(8))


@pytest.mark.faults
def test_worker_node_killed_mid_job_its_mini_batches_run_elsewhere(
    cluster: Cluster, harness: Harness, tmp_path: Path
) -> None:
    inputs = harness.put_csvs({f"part-{i}.csv": 3 + i for i in range(12)})
    deployment = counting_deployment(tmp_path, SLOW="0.5")
    outcome: dict[str, JobResult] = {}
    job = threading.Thread(target=lambda: outcome.setdefault("r", score(harness, deployment, inputs, "job-kill")))
    job.start()
    wait_until(lambda: len(inits(tmp_path)) == 2, 60, "both agents' drivers to start")
    time.sleep(1.0)  # a mini-batch or two under way on each
    victim = min(cluster.worker_nodes, key=lambda node: node.node_id)  # each worker node has an agent
    cluster.remove_node(victim, allow_graceful=False)
    job.join(timeout=180)

    result = outcome["r"]
    assert result.status == "Completed", result.error
    ids = [line.split(",")[0] for line in output_lines(harness, result)]
    assert len(ids) == len(set(ids)) == sum(3 + i for i in range(12))  # no row lost, none doubled
    assert any(m.attempts > 1 for m in result.manifest.mini_batches)
    last_nodes = {m.node for m in result.manifest.mini_batches if m.attempts > 1}
    assert victim.node_id not in last_nodes  # the re-runs ran elsewhere


@pytest.mark.faults
def test_a_crashed_agent_is_replaced(cluster: Cluster, harness: Harness, tmp_path: Path) -> None:
    inputs = eight_files(harness)
    # Slow enough that work is left when agent 1's slot finds its agent gone and starts another.
    deployment = counting_deployment(tmp_path, SLOW="0.3")
    first = score(harness, deployment, inputs, "job-1")
    assert first.status == "Completed"
    agents = [n for n in ray.util.list_named_actors() if isinstance(n, str) and n.endswith("-s0-a1")]
    ray.kill(ray.get_actor(agents[0]))

    second = score(harness, deployment, inputs, "job-2")
    assert second.status == "Completed", second.error
    # Agent 1's replacement starts its driver, within the job or after it (not waited for).
    wait_until(lambda: len(inits(tmp_path)) == 3, 60, "agent 1's replacement to start its driver")
    assert second.rows == first.rows


@pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*")
@pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*")
@pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*")
def test_builtin_scorer_groups_through_node_agents_and_scores_as_in_process(
    cluster: Cluster,
    settings: Settings,  # noqa: F811
    registered: str,  # noqa: F811
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    put_inputs(store, unique_name)  # five good files and three bad ones
    for n in range(8):
        data = features(3 + n, seed=300 + n).to_csv(index=False).encode()
        store.put_bytes(unique_name, f"sales/2026-11/part-1{n:02d}.csv", data)
    inputs = list(store.list(unique_name, "sales/2026-11/"))
    # 16 mini-batches of one file on 2 slots: groups of up to 16 // (2 × 4) = 2 (message_groups).
    spec = BatchDeployment.parse(
        {
            "name": "forecast-mlflow",
            "endpoint_name": "sales-forecast",
            "model": registered,
            "resources": {"instance_count": 2},
            "settings": {"mini_batch_size": 1, "max_concurrency_per_instance": 1, "error_threshold": -1},
        }
    )
    model = resolve_model(parse_model_ref(registered), settings)
    runtime = prepare_runtime(spec, model, settings=settings, store=store, environment=None)

    groups: list[list[int]] = []
    run_group = RayWorker.run_group

    def counted(
        self: RayWorker, staged: Sequence[StagedMiniBatch], requests: Sequence[RunRequest]
    ) -> list[ScriptAnswer]:
        groups.append([s.mini_batch.index for s in staged])
        return run_group(self, staged, requests)

    monkeypatch.setattr(RayWorker, "run_group", counted)

    def job(job_id: str, hosts: HostFactory | None) -> JobResult:
        return run_scoring_job(
            store=store,
            settings=settings,
            layout=OutputLayout(settings.output_bucket, "sales-forecast", "2026-11"),
            deployment=spec,
            model=model,
            runtime=runtime,
            inputs=inputs,
            job_id=job_id,
            log=logging.getLogger("test.ray_pools"),
            promote=False,
            hosts=hosts,
        )

    on_ray = job("job-ray", ray_hosts(settings, None))
    in_process = job("job-local", None)

    assert on_ray.manifest.workers is not None
    assert on_ray.manifest.workers.host == "ray"
    assert {m.node for m in on_ray.manifest.mini_batches} <= {node.node_id for node in cluster.worker_nodes}
    assert groups, "no message to a node agent carried more than one mini-batch"
    assert max(len(g) for g in groups) == 2
    assert on_ray.status == in_process.status == "Completed", on_ray.error
    assert on_ray.failed_items == in_process.failed_items == 3
    assert on_ray.mini_batches == in_process.mini_batches == 16
    assert on_ray.rows == in_process.rows
    assert records(on_ray) == records(in_process)
    assert_same_predictions(_predictions(store, on_ray), _predictions(store, in_process))
    got, want = lineage(store, on_ray), lineage(store, in_process)
    for column in ("file", "input_uri", "row_index"):
        assert got[column].to_pylist() == want[column].to_pylist()
