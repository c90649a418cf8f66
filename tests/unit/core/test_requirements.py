"""Package requirements: parsing real requirements files, finding what is not importable, the pip command."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from medskills.core.requirements import (
    PackageRequirement,
    import_name_of,
    missing_packages,
    pip_install_command,
    requirement_from_line,
    requirements_from_file,
)

UPSTREAMS = Path(__file__).resolve().parents[3].parent / "shared" / "upstreams"


@pytest.mark.parametrize(("distribution", "import_name"), [
    ("pytorch-ignite", "ignite"), ("PyYAML", "yaml"), ("scikit-image", "skimage"), ("huggingface_hub",
                                                                                      "huggingface_hub"),
    ("nibabel", "nibabel"), ("pydantic-settings", "pydantic_settings"), ("Pillow", "PIL"),
])
def test_import_name_of_maps_distributions_whose_module_differs(distribution: str, import_name: str) -> None:
    assert import_name_of(distribution) == import_name


@pytest.mark.parametrize("line", ["", "   ", "# Core dependencies", "-r other.txt", "--index-url https://x/simple",
                                  "https://example.org/pkg.whl"])
def test_requirement_from_line_skips_what_is_not_a_requirement(line: str) -> None:
    assert requirement_from_line(line) is None


def test_requirement_from_line_keeps_the_spec_and_drops_a_trailing_comment() -> None:
    assert requirement_from_line("scikit-image>=0.20.0  # images") == PackageRequirement("skimage",
                                                                                          "scikit-image>=0.20.0")
    assert requirement_from_line("monai[nibabel]==1.4.0") == PackageRequirement("monai", "monai[nibabel]==1.4.0")


def test_requirements_from_file_reads_the_real_nv_generate_requirements() -> None:
    path = UPSTREAMS / "NV-Generate-CTMR" / "requirements.txt"
    if not path.is_file():
        pytest.skip(f"real upstream snapshot not found at {path}")
    requirements = requirements_from_file(path)
    assert [r.import_name for r in requirements] == [
        "torch", "monai", "numpy", "scipy", "skimage", "nibabel", "matplotlib", "einops", "huggingface_hub", "tqdm",
        "fire", "tensorboard", "yaml"]
    assert requirements[1].pip_requirement == "monai>=1.5.0"


def test_missing_packages_reports_only_what_cannot_be_found_once_each() -> None:
    absent = PackageRequirement("medskills_no_such_module", "medskills-no-such-module>=1")
    present = PackageRequirement("json", "json")
    dotted = PackageRequirement("os.path", "os")
    assert missing_packages([present, absent, dotted, absent]) == [absent]


def test_pip_install_command_targets_this_interpreter_and_quotes_specs() -> None:
    command = pip_install_command([PackageRequirement("monai", "monai>=1.5,<1.6"),
                                   PackageRequirement("ignite", "pytorch-ignite")])
    assert shlex.split(command) == [sys.executable, "-m", "pip", "install", "monai>=1.5,<1.6", "pytorch-ignite"]
