"""Chest studies and a members-only pack shared by the triage library and CLI tests (module scope; test modules
import the fixtures they use by name).

The chest is the synthetic phantom cut to 22 slices of 8 mm (lungs over 160 mm, so it passes every chest check)
written as one axial CT series; the lungless study is the same body without lungs (``lungs_not_found``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dicom_support.builders import chest_phantom, write_volume_series
from medskills.dicom.volume import HUVolume
from triage_models_support.builders import write_pack

SHORT_CHEST_SLICES = 22
CHEST_STUDY_UID = "1.2.826.0.1.77"
LUNGLESS_STUDY_UID = "1.2.826.0.1.78"
QCT_AND_FVLM = [{"kind": "qct"}, {"kind": "fvlm"}]


def short_chest(*, lung_slices: tuple[int, int] = (1, SHORT_CHEST_SLICES - 1)) -> HUVolume:
    """The chest phantom cut to 22 slices of 8 mm: the smallest that still passes the chest checks."""
    return chest_phantom(slices=SHORT_CHEST_SLICES, lung_slices=lung_slices, spacing_mm=8.0)


@pytest.fixture(scope="module")
def chest_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short chest as one axial CT series of study ``CHEST_STUDY_UID``."""
    folder = tmp_path_factory.mktemp("chest")
    write_volume_series(folder, short_chest())
    return folder


@pytest.fixture(scope="module")
def lungless_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same body without lungs, as study ``LUNGLESS_STUDY_UID``: the chest check refuses it."""
    folder = tmp_path_factory.mktemp("lungless")
    write_volume_series(folder, short_chest(lung_slices=(1, 1)), study_uid=LUNGLESS_STUDY_UID,
                        series_uid=f"{LUNGLESS_STUDY_UID}.1")
    return folder


@pytest.fixture(scope="module")
def qct_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A members-only pack: ``qct`` (always runs, no weights, no torch) and ``fvlm`` (unavailable, NaN features)."""
    return write_pack(tmp_path_factory.mktemp("qct_pack"), {"model_version": "qct-1", "members": QCT_AND_FVLM})
