"""The MR contrasts NV-Generate-CTMR's brain-MRI weights were trained for, shared by synthesis and verification.

The ids are upstream's ``configs/modality_mapping.json`` (pinned commit); the names are the whole-brain
contrasts and their skull-stripped forms that upstream's MR-brain documentation lists, MRA included.
A contract test compares both with the real upstream file.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MRBrainModality"]


class MRBrainModality(StrEnum):
    """A brain-MRI contrast name (``modality`` of an MR-brain request)."""

    MRI = "mri"
    MRI_T1 = "mri_t1"
    MRI_T2 = "mri_t2"
    MRI_FLAIR = "mri_flair"
    MRI_MRA = "mri_mra"
    MRI_SWI = "mri_swi"
    MRI_T1_SKULL_STRIPPED = "mri_t1_skull_stripped"
    MRI_T2_SKULL_STRIPPED = "mri_t2_skull_stripped"
    MRI_FLAIR_SKULL_STRIPPED = "mri_flair_skull_stripped"
    MRI_MRA_SKULL_STRIPPED = "mri_mra_skull_stripped"
    MRI_SWI_SKULL_STRIPPED = "mri_swi_skull_stripped"

    @property
    def upstream_id(self) -> int:
        """The integer upstream's ``modality_mapping.json`` gives this name (what the network is conditioned on)."""
        return _UPSTREAM_IDS[self]

    @property
    def is_skull_stripped(self) -> bool:
        """True for the skull-stripped forms (no scalp or skull in the image)."""
        return self.value.endswith("_skull_stripped")


_UPSTREAM_IDS: dict[MRBrainModality, int] = {
    MRBrainModality.MRI: 8, MRBrainModality.MRI_T1: 9, MRBrainModality.MRI_T2: 10, MRBrainModality.MRI_FLAIR: 11,
    MRBrainModality.MRI_MRA: 16, MRBrainModality.MRI_SWI: 20, MRBrainModality.MRI_T1_SKULL_STRIPPED: 29,
    MRBrainModality.MRI_T2_SKULL_STRIPPED: 30, MRBrainModality.MRI_FLAIR_SKULL_STRIPPED: 31,
    MRBrainModality.MRI_SWI_SKULL_STRIPPED: 32, MRBrainModality.MRI_MRA_SKULL_STRIPPED: 33,
}
