"""Image evidence: one read per file, unreadable files recorded, spacing compared at six decimals."""

from __future__ import annotations

from pathlib import Path

from medskills.synthesis.nv_generate.image_evidence import ImageKind, inspect_image
from unit.synthesis.nv_generate.image_files import mr_array, write_volume


def test_unreadable_file_is_recorded_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"junk")
    image = inspect_image(path, kind=ImageKind.CT)
    assert not image.is_readable and image.error and image.sha256


def test_spacing_match_uses_six_decimals(tmp_path: Path) -> None:
    image = inspect_image(write_volume(tmp_path, mr_array()), kind=ImageKind.MR, requested_spacing_mm=(1.0000001, 1.0, 2.0))
    assert image.is_spacing_match_requested
    other = inspect_image(write_volume(tmp_path, mr_array(), "b.nii.gz"), kind=ImageKind.MR, requested_spacing_mm=(1.01, 1, 2))
    assert other.is_spacing_match_requested is False
