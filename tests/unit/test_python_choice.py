"""The Python-version policy: exact, else a download when allowed, else the newest patch of the minor."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpoint.environments.python_choice import Interpreter, choose_python
from batchpoint.errors import SpecError


def interpreters(*versions: str) -> list[Interpreter]:
    return [Interpreter(tuple(int(p) for p in v.split(".")), Path(f"/py/{v}/bin/python3")) for v in versions]


MACHINE = interpreters("3.8.18", "3.10.13", "3.10.4", "3.11.7", "3.12.1")


@pytest.mark.parametrize(
    ("requested", "used"),
    [("3.10.4", "3.10.4"), ("3.10.13", "3.10.13"), ("3.10", "3.10.13"), ("3.11", "3.11.7"), ("3", "3.12.1")],
)
def test_an_installed_version_is_used_as_asked(requested: str, used: str) -> None:
    choice = choose_python(requested, MACHINE)

    assert choice.interpreter is not None and choice.interpreter.version_text == used
    assert choice.warning is None and choice.download is None
    assert choice.uv_python == f"/py/{used}/bin/python3"


@pytest.mark.parametrize("downloads", [False, True])
def test_a_bare_minor_is_answered_by_its_newest_patch_even_when_downloads_are_allowed(downloads: bool) -> None:
    choice = choose_python("3.10", MACHINE, downloads=downloads)

    assert choice.interpreter == MACHINE[1]


def test_a_missing_patch_is_downloaded_when_downloads_are_allowed() -> None:
    choice = choose_python("3.8.5", MACHINE, downloads=True)

    assert (choice.interpreter, choice.download, choice.uv_python, choice.warning) == (None, "3.8.5", "3.8.5", None)


def test_a_missing_patch_falls_back_to_the_newest_of_its_minor_with_a_warning() -> None:
    choice = choose_python("3.10.5", MACHINE)

    assert choice.interpreter is not None and choice.interpreter.version_text == "3.10.13"
    assert choice.warning is not None
    assert "python 3.10.5 is not on this machine" in choice.warning
    assert "using 3.10.13" in choice.warning and "BATCHPOINT_PYTHON_DOWNLOADS" in choice.warning


def test_a_missing_minor_lists_what_the_machine_has() -> None:
    with pytest.raises(SpecError) as caught:
        choose_python("3.9.7", MACHINE)

    assert caught.value.field == "environment.python_version"
    assert "python 3.9.7 is not on this machine (no 3.9 at all)" in str(caught.value)
    assert "one of: 3.12.1, 3.11.7, 3.10.13, 3.10.4, 3.8.18" in str(caught.value)


def test_a_missing_minor_is_downloaded_when_downloads_are_allowed() -> None:
    assert choose_python("3.9", MACHINE, downloads=True).download == "3.9"


def test_an_empty_machine_says_so() -> None:
    with pytest.raises(SpecError, match="one of: none found"):
        choose_python("3.11", [])


@pytest.mark.parametrize("requested", ["3.x", "", "python3.10", "3.10.5.1"])
def test_a_malformed_version_shows_the_valid_form(requested: str) -> None:
    with pytest.raises(SpecError, match=r"a version like `3.11` or `3.11.7`"):
        choose_python(requested, MACHINE)
