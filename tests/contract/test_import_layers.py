"""Imports point one way: cli/service -> capabilities -> dicom, pretrained -> core; capabilities never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "medskills"
CAPABILITIES = {"synthesis", "segmentation", "verification", "triage", "setup"}
LAYER = {"core": 0, "dicom": 1, "pretrained": 1, "synthesis": 2, "segmentation": 2, "verification": 2, "triage": 2,
         "setup": 2, "cli": 3}


def _package_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "medskills" and len(parts) > 1:
                found.add(parts[1])
    return found


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if _package_of(p) in LAYER]


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_downward(module: Path) -> None:
    own = _package_of(module)
    for target in _imported_packages(module) & set(LAYER):
        if target == own:
            continue
        assert not (own in CAPABILITIES and target in CAPABILITIES), f"{module}: capability imports {target}"
        assert LAYER[target] < LAYER[own], f"{module}: imports upward into {target}"


def test_src_never_imports_tests() -> None:
    offenders = [p for p in SRC.rglob("*.py") if "tests" in {n.split(".")[0] for n in _raw_imports(p)}]
    assert not offenders, f"stand-ins must never ship: {offenders}"


def _raw_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names
