"""``WorkerRuntime``: what a job's worker processes run — which Python, which scoring script, which model.

One runtime for both kinds of deployment. A custom deployment brings its scoring script and
environment; an MLflow no-code deployment is the built-in script ``builtin/mlflow_scorer.py`` run
in the model's own environment (or batchpoint's interpreter when that satisfies it). Either way
``script_driver.py`` runs ``init()`` once per process and ``run(mini_batch)`` per mini-batch (see
``docs/scoring-runtime.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from batchpoint.scoring.environment_decision import EnvironmentDecision

RuntimeKind = Literal["mlflow", "script"]
BUILTIN_DIR = Path(__file__).with_name("builtin")
MLFLOW_SCORER = "mlflow_scorer.py"


@dataclass(frozen=True)
class WorkerRuntime:
    """How to start a worker: ``python script_driver.py --code code_dir --entry entry``.

    ``model_dir`` is ``AZUREML_MODEL_DIR``: it holds the model's files in one subfolder, as Azure lays
    them out. ``environment_key`` names the built environment (``None``: batchpoint's interpreter);
    ``environment`` says how the Python was chosen (``scoring/runtime_environment.py``), and
    ``environment_lines`` how that was said as it happened, for the job's user log.
    """

    kind: RuntimeKind
    python: Path
    code_dir: Path
    entry: str
    model_dir: Path
    environment_key: str | None = None
    code_uri: str | None = None
    environment: EnvironmentDecision | None = None
    environment_lines: tuple[str, ...] = ()

    @property
    def builtin(self) -> bool:
        """True for the MLflow no-code scorer, which reports per-file outcomes and Arrow results."""
        return self.kind == "mlflow"

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the manifest."""
        return {
            "kind": self.kind,
            "python": str(self.python),
            "entry": self.entry,
            "code_uri": self.code_uri,
            "environment_key": self.environment_key,
            "environment": self.environment.to_dict() if self.environment else None,
        }
