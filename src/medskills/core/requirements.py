"""Which Python packages an entry point needs are not importable here, and the pip command that adds them.

Used by preflight for the upstream entry points (the NV-Segment-CTMR bundle's imports, NV-Generate-CTMR's
``requirements.txt``) and by the seed-script bootstrap. Standard library only, and :func:`find_spec`
instead of importing, so a check never loads torch or runs a package's import-time code.

Environment markers (``; python_version < "3.9"``) are not evaluated: a requirement with a marker is
checked like any other.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

__all__ = [
    "PackageRequirement",
    "canonical_distribution",
    "import_name_of",
    "missing_packages",
    "pip_install_command",
    "requirement_for_import",
    "requirement_from_line",
    "requirements_from_file",
]

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class PackageRequirement:
    """One package: the top-level name code imports and the pip requirement that provides it."""

    import_name: str
    pip_requirement: str


def canonical_distribution(name: str) -> str:
    """PEP 503 normal form of a distribution name (``PyYAML`` -> ``pyyaml``, ``foo_bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _import_names() -> dict[str, str]:
    text = resources.files("medskills").joinpath("data", "import_names.json").read_text(encoding="utf-8")
    table: dict[str, str] = json.loads(text)["import_names"]
    return table


def import_name_of(distribution: str) -> str:
    """The top-level module a distribution provides (``pytorch-ignite`` -> ``ignite``, ``nibabel`` -> ``nibabel``)."""
    canonical = canonical_distribution(distribution)
    return _import_names().get(canonical, canonical.replace("-", "_"))


def requirement_from_line(line: str) -> PackageRequirement | None:
    """Parse one ``requirements.txt`` line; ``None`` for blanks, comments, options (``-r``, ``--index-url``) and URLs.

    Example: ``"scikit-image>=0.20.0  # comment"`` -> ``PackageRequirement("skimage", "scikit-image>=0.20.0")``.
    """
    text = line.split(" #", 1)[0].strip()
    if not text or text.startswith(("#", "-")) or "://" in text:
        return None
    match = _NAME.match(text)
    if match is None:
        return None
    return PackageRequirement(import_name=import_name_of(match.group(1)), pip_requirement=text)


def requirements_from_file(path: Path) -> list[PackageRequirement]:
    """Every requirement of a ``requirements.txt`` file, in file order.

    Raises:
        OSError: the file cannot be read.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [requirement for line in lines if (requirement := requirement_from_line(line)) is not None]


def missing_packages(requirements: Iterable[PackageRequirement]) -> list[PackageRequirement]:
    """The requirements whose top-level module this interpreter cannot find, each once, in the given order."""
    missing: list[PackageRequirement] = []
    for requirement in requirements:
        top_level = requirement.import_name.split(".")[0]
        if find_spec(top_level) is None and requirement not in missing:
            missing.append(requirement)
    return missing


def pip_install_command(requirements: Iterable[PackageRequirement]) -> str:
    """The shell command that installs ``requirements`` into this interpreter's environment."""
    specs = " ".join(shlex.quote(requirement.pip_requirement) for requirement in requirements)
    return f"{shlex.quote(sys.executable)} -m pip install {specs}"


def requirement_for_import(import_name: str) -> PackageRequirement:
    """The pip requirement that provides top-level module ``import_name`` (``ignite`` -> ``pytorch-ignite``)."""
    top_level = import_name.split(".")[0]
    for distribution, module in _import_names().items():
        if module == top_level:
            return PackageRequirement(import_name=top_level, pip_requirement=distribution)
    return PackageRequirement(import_name=top_level, pip_requirement=top_level.replace("_", "-"))
