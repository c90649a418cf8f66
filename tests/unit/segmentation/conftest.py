"""Fixtures for segmentation unit tests: a bundle layout with a placeholder checkpoint, settings, volumes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.label_spaces import load_label_dictionary
from medskills.core.settings import Settings, load_settings
from medskills.segmentation.bundle import BUNDLE_LAYOUT



@pytest.fixture()
def bundle_layout(tmp_path: Path) -> Path:
    """Every file the layout check wants, the real label dictionary, and a small placeholder model.pt."""
    root = tmp_path / "clone" / "NV-Segment-CTMR"
    for name in BUNDLE_LAYOUT:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")
    dictionary = load_label_dictionary("vista3d")
    (root / "configs" / "label_dict.json").write_text(json.dumps(
        {e.name: {"index": e.id, "datasets": list(e.modalities)} for e in dictionary.entries}))
    (root / "configs" / "metadata.json").write_text(json.dumps({"version": "0.0.1s"}))
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
