"""The Python packages a run of the NV-Segment-CTMR bundle imports, read from the bundle's own files.

Two sources: what ``python -m monai.bundle run`` itself needs whatever the config says (MONAI facts,
below), and what ``configs/inference.json`` and the ``scripts`` modules it reaches import, found by
reading their source: ``import``/``from`` statements (also those under ``TYPE_CHECKING``) and MONAI's
``optional_import("name")`` calls, which fail only on first use, deep inside a run.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medskills.core.requirements import PackageRequirement, requirement_for_import

__all__ = ["BundleImport", "bundle_imports"]

CONFIG_FILE = "configs/inference.json"
BUNDLE_PACKAGE = "scripts"
_SCRIPT_MODULE = re.compile(rf"\b{BUNDLE_PACKAGE}\.([A-Za-z_]\w*)")
# `python -m monai.bundle` calls `fire.Fire()`; the config parser pre-imports monai, torch and numpy
# for every "$" expression; LoadImaged reads the NIfTI we pass through nibabel.
RUNNER_IMPORTS = {"monai": "python -m monai.bundle", "torch": "python -m monai.bundle (config globals)",
                  "numpy": "python -m monai.bundle (config globals)", "fire": "python -m monai.bundle (fire.Fire)",
                  "nibabel": "LoadImaged of a NIfTI input"}


@dataclass(frozen=True)
class BundleImport:
    """One package a bundle run imports, and the first place found to import it."""

    requirement: PackageRequirement
    imported_by: str


def bundle_imports(root: Path) -> list[BundleImport]:
    """Every third-party package a bundle run under ``root`` imports, each once, the runner's needs first.

    Unreadable files contribute nothing (the layout check reports them).
    """
    found: dict[str, str] = dict(RUNNER_IMPORTS)
    config = _read_config(root / CONFIG_FILE)
    for module in _config_imports(config):
        found.setdefault(module, CONFIG_FILE)
    for path in _reached_script_files(root, config):
        for module in _source_imports(path):
            found.setdefault(module, path.relative_to(root).as_posix())
    return [BundleImport(requirement=requirement_for_import(name), imported_by=where) for name, where in found.items()
            if name not in sys.stdlib_module_names and name not in (BUNDLE_PACKAGE, "__future__")]


def _read_config(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _walk(node: object) -> Iterator[tuple[str | None, str]]:
    """(key, value) of every string in the config, at any depth."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(value, str):
            yield (key if isinstance(key, str) else None), value
        else:
            yield from _walk(value)


def _config_imports(config: object) -> list[str]:
    """Top-level modules of the ``imports`` statements and of dotted ``_target_`` paths."""
    modules: list[str] = []
    for key, value in _walk(config):
        if key == "_target_" and "." in value:
            modules.append(value.split(".")[0])
        elif value.startswith(("$import ", "$from ")):
            modules += _statement_imports(value[1:])
    return modules


def _statement_imports(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return _tree_imports(tree)


def _tree_imports(tree: ast.AST) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) ==
              "optional_import" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            modules.append(node.args[0].value.split(".")[0])
    return modules


def _reached_script_files(root: Path, config: object) -> list[Path]:
    """``scripts/__init__.py``, the ``scripts.<module>`` files the config names, and their relative imports."""
    package = root / BUNDLE_PACKAGE
    pending = ["__init__", *(m for _, value in _walk(config) for m in _SCRIPT_MODULE.findall(value))]
    seen: list[Path] = []
    while pending:
        path = package / f"{pending.pop(0)}.py"
        if path in seen or not path.is_file():
            continue
        seen.append(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        pending += [node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module]
    return seen


def _source_imports(path: Path) -> list[str]:
    try:
        return _tree_imports(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, ValueError):
        return []
