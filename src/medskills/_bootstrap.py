"""Start a seed script (``skills/*/scripts/*.py``, ``verifiers/*/scripts/grade.py``) from a checkout.

The seed command lines run the scripts straight from the repository, in an environment where only
the seed's own ``pip install`` line has run. So this module, like the shim that calls it, uses the
standard library only: it checks that our declared dependencies are importable, and if any is not,
prints one line naming them and the exact ``pip install`` that fixes it, and exits 2. Only then does
it import the command.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType

__all__ = ["run_script"]

PACKAGE_DIR = Path(__file__).resolve().parent
REQUIREMENTS_MODULE = "medskills.core.requirements"
USAGE_EXIT_CODE = 2


def _requirements_helper() -> ModuleType:
    """``medskills.core.requirements`` (stdlib only), loaded by file so ``core/__init__`` and its pydantic wait.

    The importlib recipe "importing a source file directly"; the module is registered under its real
    name, so a later ``import medskills.core.requirements`` gets this same module.
    """
    if REQUIREMENTS_MODULE in sys.modules:
        return sys.modules[REQUIREMENTS_MODULE]
    spec = importlib.util.spec_from_file_location(REQUIREMENTS_MODULE, PACKAGE_DIR / "core" / "requirements.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[REQUIREMENTS_MODULE] = module
    spec.loader.exec_module(module)
    return module


def declared_dependencies() -> list[str]:
    """Our base dependencies: ``project.dependencies`` of the checkout's pyproject, else the installed metadata."""
    pyproject = PACKAGE_DIR.parents[1] / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as handle:
            dependencies: list[str] = tomllib.load(handle)["project"]["dependencies"]
        return dependencies
    return [line for line in metadata.requires("medskills") or [] if "extra ==" not in line]


def missing_dependency_line(script: str) -> str | None:
    """The one line naming every missing base dependency and the pip command; ``None`` when all import."""
    helper = _requirements_helper()
    declared = [helper.requirement_from_line(line) for line in declared_dependencies()]
    missing = helper.missing_packages(requirement for requirement in declared if requirement is not None)
    if not missing:
        return None
    names = ", ".join(requirement.import_name for requirement in missing)
    return (f"{script}: medskills needs packages this Python ({sys.executable}) cannot import: {names}. "
            f"Fix: {helper.pip_install_command(missing)}")


def run_script(target: str, *args: str) -> None:
    """Check our dependencies, then call ``target`` (``"module:function"``, the script's command) with ``args``."""
    problem = missing_dependency_line(Path(sys.argv[0]).name)
    if problem is not None:
        print(problem, file=sys.stderr)  # noqa: T201 - an entry point, before any logging exists
        raise SystemExit(USAGE_EXIT_CODE)
    module_name, function_name = target.split(":")
    getattr(importlib.import_module(module_name), function_name)(*args)
