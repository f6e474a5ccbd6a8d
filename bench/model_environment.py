"""Cold build, reuse and disk of an MLflow model's own environment (issue 10).

    uv run python bench/model_environment.py [MODEL_FOLDER]

MODEL_FOLDER holds ``MLmodel`` and its ``python_env.yaml`` / ``requirements.txt``; without it, the
files MLflow 2.22 writes for a scikit-learn 1.5.2 model on Python 3.10 are used. "cold" is a
build with an empty uv cache (every wheel downloaded), "warm" one with uv's cache filled by it,
"reuse" the second ``ensure`` of the same spec.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batchpoint.environments.azure_packages import without_azure_runtime
from batchpoint.environments.builder import EnvironmentBuilder
from batchpoint.environments.model_environment import read_model_environment, with_scorer_needs
from batchpoint.specs.environment import EnvironmentSpec

SAMPLE = {
    "python_env.yaml": "python: 3.10.13\nbuild_dependencies: [pip==23.0.1, setuptools==65.5.0, wheel]\n"
    "dependencies: [-r requirements.txt]\n",
    "requirements.txt": "mlflow==2.22.2\ncloudpickle==3.1.1\nnumpy==1.26.4\npandas==1.5.3\n"
    "scikit-learn==1.5.2\nscipy==1.15.3\nazureml-defaults\n",
    "MLmodel": "mlflow_version: 2.22.2\n",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "model"
        if len(sys.argv) == 1:
            folder.mkdir()
            for name, text in SAMPLE.items():
                (folder / name).write_text(text)
        asked = read_model_environment(folder)
        assert asked is not None, f"{folder} names no environment"
        kept, dropped = without_azure_runtime(list(asked.requirements))
        kept = [*asked.build_requirements, *kept]
        requirements, added = with_scorer_needs(kept, asked.mlflow_version)
        spec = EnvironmentSpec.parse(
            {"name": "bench", "pip_requirements": requirements, "python_version": asked.python_version}
        )
        print(f"python {asked.python_version}; {len(requirements)} requirements; dropped {dropped}; added {added}")
        os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")  # empty: every wheel is downloaded
        cold = EnvironmentBuilder(root / "cold").ensure(spec)
        warm = EnvironmentBuilder(root / "warm").ensure(spec)
        started = time.monotonic()
        reused = EnvironmentBuilder(root / "warm").ensure(spec)
        reuse = time.monotonic() - started
        disk = subprocess.run(["du", "-sm", str(warm.root)], capture_output=True, text=True, check=True).stdout.split()[
            0
        ]
        assert not reused.built_now
        print(
            f"cold build {cold.seconds:.1f} s, warm-cache build {warm.seconds:.1f} s, reuse {reuse * 1000:.2f} ms, "
            f"disk {disk} MiB (python {warm.python_version})"
        )


if __name__ == "__main__":
    main()
