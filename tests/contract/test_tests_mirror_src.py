"""Tests mirror src/ module by module (docs/architecture.md, "Tests"): a newcomer finds a module's tests
beside its path, and a module nobody tests directly cannot slip in unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "medskills"
TESTS = REPO / "tests"

TESTED_ELSEWHERE: dict[str, tuple[str, str]] = {
    # module (under src/medskills) -> (the test file that drives it, a text that file must hold to show it does)
    "cli/synth.py": ("tests/integration/core/test_run.py", '"synth"'),  # the lifecycle test, one row a command
    "cli/verify.py": ("tests/integration/verification/test_verify_cli.py", '"verify"'),  # beside the verifiers
    "synthesis/ct_from_mask/record.py": ("tests/unit/synthesis/test_record_skills.py",
                                         "medskills.synthesis.ct_from_mask.record"),  # every record's skill id
    "synthesis/ct_image/record.py": ("tests/unit/synthesis/test_record_skills.py",
                                     "medskills.synthesis.ct_image.record"),
    "synthesis/ct_mask/record.py": ("tests/unit/synthesis/test_record_skills.py", "medskills.synthesis.ct_mask.record"),
    "synthesis/mr_brain/record.py": ("tests/unit/synthesis/test_record_skills.py",
                                     "medskills.synthesis.mr_brain.record"),
    "synthesis/paired_ct/record.py": ("tests/unit/synthesis/test_record_skills.py",
                                      "medskills.synthesis.paired_ct.record"),
    "synthesis/ct_mask/gates.py": ("tests/unit/synthesis/ct_mask/test_ct_mask_evidence.py",
                                   "medskills.synthesis.ct_mask.gates"),  # the gates judge the mask evidence
    "synthesis/diff_model/run.py": ("tests/integration/synthesis/ct_image/test_ct_image_run.py",
                                    "generate_ct_image"),  # reached through each diffusion command
    "synthesis/paired_ct/card.py": ("tests/integration/core/test_card_browser.py",
                                    "test_paired_ct_card"),  # rendered in a real browser
}


def modules_without_mirror(src: Path, tests: Path) -> list[str]:
    """Public modules of ``src`` (no ``_`` on their path, not the package root) with no
    ``tests/unit|integration/<same folder>/test_[<prefix>_]<module>[_<aspect>].py``."""
    missing = []
    for module in sorted(src.rglob("*.py")):
        relative = module.relative_to(src)
        if len(relative.parts) == 1 or any(part.startswith("_") for part in relative.parts):
            continue
        pattern = re.compile(rf"^test_(\w+_)?{re.escape(module.stem)}(_\w+)?\.py$")
        folders = [tests / kind / relative.parent for kind in ("unit", "integration")]
        if not any(folder.is_dir() and any(pattern.match(f.name) for f in folder.iterdir()) for folder in folders):
            missing.append(relative.as_posix())
    return missing


def test_every_public_module_has_a_mirroring_test_file_or_names_where_it_is_tested() -> None:
    unlisted = [module for module in modules_without_mirror(SRC, TESTS) if module not in TESTED_ELSEWHERE]
    assert not unlisted, (f"these modules have no tests/unit|integration/<same folder>/test_<module>.py: {unlisted}; "
                          "add one, or name the file that tests them in TESTED_ELSEWHERE")


def test_each_module_said_to_be_tested_elsewhere_is_named_by_that_test_file_and_has_no_mirror_yet() -> None:
    mirrored = set(TESTED_ELSEWHERE) - set(modules_without_mirror(SRC, TESTS))
    assert not mirrored, f"these now have their own test file; drop them from TESTED_ELSEWHERE: {sorted(mirrored)}"
    for module, (test_file, marker) in TESTED_ELSEWHERE.items():
        assert (SRC / module).is_file(), f"{module} no longer exists"
        assert marker in (REPO / test_file).read_text(encoding="utf-8"), f"{test_file} no longer holds {marker!r}"


def test_modules_without_mirror_finds_an_untested_module_and_accepts_prefixed_and_aspect_names(
        tmp_path: Path) -> None:
    src, tests = tmp_path / "src", tmp_path / "tests"
    for module in ("core/io.py", "core/volumes.py", "core/_private.py", "dicom/headers.py", "dicom/nifti.py",
                   "root_module.py"):
        (src / module).parent.mkdir(parents=True, exist_ok=True)
        (src / module).write_text("")
    for test_file in ("unit/core/test_io_atomic.py", "integration/dicom/test_dicom_headers.py",
                      "unit/test_nifti.py"):
        (tests / test_file).parent.mkdir(parents=True, exist_ok=True)
        (tests / test_file).write_text("")
    assert modules_without_mirror(src, tests) == ["core/volumes.py", "dicom/nifti.py"]


@pytest.mark.parametrize("test_name", ["test_iox.py", "test_io.txt", "io_test.py"])
def test_modules_without_mirror_does_not_take_a_near_name_for_a_mirror(tmp_path: Path, test_name: str) -> None:
    (tmp_path / "src" / "core").mkdir(parents=True)
    (tmp_path / "src" / "core" / "io.py").write_text("")
    (tmp_path / "tests" / "unit" / "core").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "core" / test_name).write_text("")
    assert modules_without_mirror(tmp_path / "src", tmp_path / "tests") == ["core/io.py"]
