"""Fixtures for segmentation unit tests: the real bundle's files with a placeholder checkpoint, settings, volumes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.settings import Settings, load_settings

@pytest.fixture()
def bundle_layout(tmp_path: Path, real_ctmr_bundle: Path) -> Path:
    """A copy of the real bundle's ``configs`` and ``scripts`` with a small placeholder ``models/model.pt``."""
    root = tmp_path / "clone" / "NV-Segment-CTMR"
    for folder in ("configs", "scripts"):
        shutil.copytree(real_ctmr_bundle / folder, root / folder)
    (root / "models").mkdir()
    (root / "models" / "model.pt").write_bytes(b"\0" * 1024)
    return root


@pytest.fixture()
def settings_for(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings with NV_SEGMENT_CTMR_ROOT (and optionally MEDSKILLS_ALLOW_NO_GPU) set."""
    def build(root: Path | None, *, allow_no_gpu: bool = False) -> Settings:
        if root is not None:
            monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", str(root))
        if allow_no_gpu:
            monkeypatch.setenv("MEDSKILLS_ALLOW_NO_GPU", "1")
        return load_settings()
    return build


@pytest.fixture()
def write_volume(tmp_path: Path) -> Callable[..., Path]:
    """Write a NIfTI volume; ``codes=(0, 0)`` writes one without any orientation."""
    def write(
        name: str, array: np.ndarray, affine: np.ndarray | None = None, *, codes: tuple[int, int] = (1, 1)
    ) -> Path:
        if codes == (0, 0):  # no affine at all: nibabel writes sform_code = qform_code = 0
            image = nib.Nifti1Image(array, None)
        else:
            image = nib.Nifti1Image(array, np.diag([2.0, 2.0, 2.0, 1.0]) if affine is None else affine)
        path = tmp_path / name
        nib.save(image, path)
        return path
    return write
