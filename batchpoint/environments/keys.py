"""The content key of an environment: sha256 of its normalised requirements and Python version.

Pure: no file system, no subprocess. Two specs that install the same thing share one key, so
they share one built environment, whatever their names, versions or requirement order.
"""

from __future__ import annotations

import hashlib
import json
import re

# A requirement's leading project name (PEP 508); the rest (extras, specifier, marker) follows it.
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<rest>.*)$", re.DOTALL)
_SEPARATORS = re.compile(r"[-_.]+")


def _normalise_one(requirement: str) -> str:
    text = requirement.strip()
    match = _NAME.match(text)
    if match is None:  # an option line or URL: keep it as written, only trimmed
        return text
    name = _SEPARATORS.sub("-", match["name"]).lower()  # PEP 503: Scikit_Learn == scikit-learn
    rest = match["rest"]
    if ";" in rest:  # whitespace inside a marker is meaningful (`python_version < "3.11"`)
        spec, marker = rest.split(";", 1)
        return f"{name}{''.join(spec.split())}; {' '.join(marker.split())}"
    return name + "".join(rest.split())


def requirement_name(requirement: str) -> str | None:
    """The canonical (PEP 503) project name a requirement line installs; ``None`` for options and URLs."""
    text = requirement.strip()
    if text.startswith("-") or "://" in text.split(";", 1)[0].split("@", 1)[0]:
        return None
    match = _NAME.match(text)
    return _SEPARATORS.sub("-", match["name"]).lower() if match else None


def normalised_requirements(requirements: list[str]) -> list[str]:
    """Requirements trimmed, names canonicalised, comments and blanks dropped, sorted, unique."""
    kept = (r.split(" #", 1)[0] for r in requirements if r.strip() and not r.strip().startswith("#"))
    return sorted({_normalise_one(r) for r in kept if r.strip()})


def environment_key(requirements: list[str], python_version: str) -> str:
    """sha256 (hex) of the normalised requirements and the requested Python version."""
    content = {"python": python_version.strip(), "requirements": normalised_requirements(requirements)}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
