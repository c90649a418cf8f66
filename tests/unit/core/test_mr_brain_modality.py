"""The shared MR-brain modality set agrees with the real upstream ``configs/modality_mapping.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medskills.core.mr_brain_modality import MRBrainModality

MAPPING = Path(__file__).resolve().parents[3].parent / "shared" / "upstreams" / "NV-Generate-CTMR" / "configs" / "modality_mapping.json"


def test_every_brain_modality_has_the_id_upstream_gives_its_name() -> None:
    if not MAPPING.is_file():
        pytest.skip(f"real upstream not found at {MAPPING}")
    upstream = json.loads(MAPPING.read_text())
    assert {member.value: member.upstream_id for member in MRBrainModality} == {
        member.value: upstream[member.value] for member in MRBrainModality}


def test_mra_and_its_skull_stripped_form_are_brain_modalities() -> None:
    assert MRBrainModality("mri_mra").upstream_id == 16
    assert MRBrainModality.MRI_MRA_SKULL_STRIPPED.is_skull_stripped
    assert not MRBrainModality.MRI_MRA.is_skull_stripped
