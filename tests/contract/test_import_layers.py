"""Imports point one way (cli/service -> capabilities -> dicom -> core), and no package imports another's privates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "medskills"
CAPABILITIES = {"synthesis", "segmentation", "verification", "triage", "setup"}
LAYER = {"core": 0, "dicom": 1, "synthesis": 2, "segmentation": 2, "verification": 2, "triage": 2, "setup": 2, "cli": 3}


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



def _importer_package(path: Path) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to the package itself)."""
    parts = ("medskills", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1])


def _foreign_private_imports(source: str, importer: str) -> list[str]:
    """Private modules or names from medskills that ``source`` (in package ``importer``) may not import.

    A ``_module`` or ``_name`` inside package P (directly or in one of its modules) is private to P
    and its subpackages.
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        dotted: list[str] = []
        if isinstance(node, ast.Import):
            dotted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            dotted = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in dotted:
            parts = name.split(".")
            private = [k for k, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")]
            if parts[0] != "medskills" or not private:
                continue
            owner_parts = parts[:private[0]]
            if SRC.joinpath(*owner_parts[1:]).with_suffix(".py").is_file():  # a private name in a module
                owner_parts = owner_parts[:-1]
            owner = ".".join(owner_parts)
            if importer != owner and not importer.startswith(f"{owner}."):
                found.append(name)
    return found


@pytest.mark.parametrize("module", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_another_packages_private_modules(module: Path) -> None:
    offenders = _foreign_private_imports(module.read_text(encoding="utf-8"), _importer_package(module))
    assert not offenders, f"{module.relative_to(SRC)} imports private names of another package: {offenders}"


def test_the_private_import_check_fires_on_a_foreign_private_module() -> None:
    source = ("from medskills.dicom._frames import decode_frame\nfrom medskills.dicom.assembly import _place_slice\n"
              "import medskills.core.label_spaces._mapping\nfrom medskills.dicom.errors import DicomErrorCode\n")
    assert _foreign_private_imports(source, "medskills.segmentation") == [
        "medskills.dicom._frames.decode_frame", "medskills.dicom.assembly._place_slice",
        "medskills.core.label_spaces._mapping"]
    assert _foreign_private_imports(source, "medskills.dicom") == ["medskills.core.label_spaces._mapping"]
    assert _foreign_private_imports(source, "medskills.core.label_spaces") == [
        "medskills.dicom._frames.decode_frame", "medskills.dicom.assembly._place_slice"]
    assert _importer_package(SRC / "dicom" / "__init__.py") == "medskills.dicom"
    assert _importer_package(SRC / "dicom" / "assembly.py") == "medskills.dicom"
