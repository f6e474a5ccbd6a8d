"""Whether batchpoint's own interpreter already satisfies an environment, so nothing needs building.

Pure over a mapping of installed distributions (name → version, e.g. from ``installed_versions()``):
every requirement must name an installed distribution whose version its specifier allows, its
marker (if any) evaluated for this interpreter. Anything the check cannot judge (an option line,
a URL, extras, an unparseable line) means "build". A requested Python version must have the
interpreter's major.minor: pickled code is specific to it.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable, Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

OWN_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"


def requirement_names(requirements: Iterable[str]) -> list[str]:
    """The project names ``requirements`` name (unparseable lines left out)."""
    names: list[str] = []
    for line in requirements:
        try:
            names.append(Requirement(line.split(" #", 1)[0].strip()).name)
        except InvalidRequirement:
            continue
    return names


def installed_versions(names: Iterable[str] | None = None) -> dict[str, str]:
    """Canonical name → version of the distributions in batchpoint's own environment.

    Only ``names`` are looked up when given (each a cheap lookup; listing all costs seconds).
    """
    found: dict[str, str] = {}
    if names is not None:
        for name in names:
            try:
                found[canonicalize_name(name)] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue
        return found
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist.version)
    return found


def unsatisfied(requirements: Sequence[str], installed: Mapping[str, str]) -> list[str]:
    """The requirements ``installed`` does not satisfy (empty: every one is)."""
    missing: list[str] = []
    for line in requirements:
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:
            missing.append(text)
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue  # not for this interpreter: nothing to satisfy
        have = installed.get(canonicalize_name(req.name))
        if have is None or req.extras or req.url:
            missing.append(text)
            continue
        try:
            ok = req.specifier.contains(Version(have), prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            missing.append(f"{text} (batchpoint has {have})")
    return missing


def python_fits(requested: str | None, own: str = OWN_PYTHON) -> bool:
    """True when ``requested`` (``3.11`` or ``3.11.4``) has the major.minor of ``own``, or is not given."""
    if not requested:
        return True
    return requested.strip().split(".")[:2] == own.split(".")[:2]
