"""Real uv builds: a pinned scikit-learn beside the project's own, cached reuse, typed failures.

Needs uv and a reachable package index (PyPI or the machine's mirror); no embedded stack.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sklearn

from batchpoint.environments import EnvironmentBuilder, EnvironmentBuildError, find_uv
from batchpoint.environments.interpreters import installed_interpreters
from batchpoint.errors import SpecError
from batchpoint.specs.environment import EnvironmentSpec

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SKLEARN_152 = EnvironmentSpec.parse(
    {"name": "sklearn-152", "pip_requirements": ["scikit-learn==1.5.2", "numpy<2"], "python_version": "3.11"}
)


def _run(python: Path, code: str) -> str:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("env-cache")


def test_pinned_scikit_learn_runs_beside_the_projects(cache_root: Path) -> None:
    built = EnvironmentBuilder(cache_root).ensure(SKLEARN_152)

    assert built.built_now
    assert built.root == cache_root / "envs" / built.key[:16]
    assert _run(built.python, "import sklearn; print(sklearn.__version__)") == "1.5.2"
    assert _run(built.python, "import numpy; print(numpy.__version__)").startswith("1.")
    assert sklearn.__version__.startswith("1.9")  # the project itself keeps its own
    print(f"cold build: {built.seconds:.2f} s")


def test_second_ensure_reuses_without_calling_uv(cache_root: Path) -> None:
    first = EnvironmentBuilder(cache_root).ensure(SKLEARN_152)
    # A uv that does not exist: reuse must not need it at all.
    started = time.monotonic()
    again = EnvironmentBuilder(cache_root, uv="no-such-uv-binary").ensure(SKLEARN_152.model_copy(update={"name": "x"}))
    elapsed = time.monotonic() - started

    assert not again.built_now
    assert (again.python, again.key) == (first.python, first.key)
    assert elapsed < 0.5
    print(f"cached reuse: {elapsed * 1000:.1f} ms")


def test_concurrent_builds_of_one_spec_build_once(tmp_path: Path) -> None:
    spec = EnvironmentSpec.parse({"name": "tiny", "pip_requirements": ["six"], "python_version": "3.11"})
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: EnvironmentBuilder(tmp_path).ensure(spec), range(3)))

    assert sorted(r.built_now for r in results) == [False, False, True]
    assert len({r.root for r in results}) == 1
    assert [p.name for p in (tmp_path / "envs").iterdir() if p.is_dir()] == [results[0].root.name]
    assert _run(results[0].python, "import six; print(six.__name__)") == "six"


@pytest.mark.parametrize(
    ("requirement", "problem"),
    [("scikit-learn==99.0", "no version found"), ("batchpoint-no-such-package-zq", "not found in the package index")],
)
def test_unknown_requirement_is_named(tmp_path: Path, requirement: str, problem: str) -> None:
    spec = EnvironmentSpec.parse({"name": "bad", "pip_requirements": ["six", requirement]})

    with pytest.raises(EnvironmentBuildError) as caught:
        EnvironmentBuilder(tmp_path).ensure(spec)

    assert caught.value.requirement == requirement
    assert f"{requirement}: {problem}" in str(caught.value)
    assert "uv output" in str(caught.value) and requirement in caught.value.output_tail
    assert isinstance(caught.value, SpecError) and caught.value.field == "environment.pip_requirements"
    # Nothing half-built is left looking complete (or at all).
    assert [p.name for p in (tmp_path / "envs").iterdir() if p.is_dir()] == []


def test_missing_python_version_lists_the_available_ones(tmp_path: Path) -> None:
    spec = EnvironmentSpec.parse({"name": "old", "pip_requirements": ["six"], "python_version": "3.4"})
    available = [i.version_text for i in installed_interpreters(find_uv())]

    with pytest.raises(SpecError) as caught:
        EnvironmentBuilder(tmp_path).ensure(spec)

    assert caught.value.field == "environment.python_version"
    assert "python 3.4 is not on this machine" in str(caught.value)
    assert available and f"one of: {', '.join(available)}" in str(caught.value)


def test_another_installed_python_version_is_used(tmp_path: Path) -> None:
    others = [i for i in installed_interpreters(find_uv()) if i.version[:2] != (3, 11)]
    if not others:
        pytest.skip("only Python 3.11 is installed here")
    wanted = f"{others[0].version[0]}.{others[0].version[1]}"
    spec = EnvironmentSpec.parse({"name": "other", "python_version": wanted})

    built = EnvironmentBuilder(tmp_path).ensure(spec)

    assert _run(built.python, "import sys; print('%d.%d' % sys.version_info[:2])") == wanted


def test_a_crashed_build_is_not_taken_for_a_complete_one(tmp_path: Path) -> None:
    spec = EnvironmentSpec.parse({"name": "plain", "python_version": "3.11"})
    builder = EnvironmentBuilder(tmp_path)
    short = builder.key(spec)[:16]
    (tmp_path / "envs" / short / "bin").mkdir(parents=True)  # renamed without a marker: never complete
    (tmp_path / "envs" / f".build-{short}-crashed").mkdir()

    built = builder.ensure(spec)

    assert built.built_now
    assert sorted(p.name for p in (tmp_path / "envs").iterdir() if p.is_dir()) == [short]
    assert _run(built.python, "import sys; print(sys.prefix != sys.base_prefix)") == "True"
