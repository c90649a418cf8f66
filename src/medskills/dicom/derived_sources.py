"""Source headers made fit to derive a new object (SR, SEG) from: highdicom copies the patient and
study from the first source and needs the type-2 attributes present, even if empty."""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = ["TYPE2_PATIENT_STUDY", "with_type2_patient_study"]

TYPE2_PATIENT_STUDY = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID",
                       "StudyDate", "StudyTime", "ReferringPhysicianName")


def with_type2_patient_study(sources: Sequence[Dataset]) -> list[Dataset]:
    """The sources with every source's absent type-2 patient/study attributes present and empty.

    Datasets that need a change are copied; the caller's datasets are never modified.
    """
    fixed = []
    for dataset in sources:
        missing = [keyword for keyword in TYPE2_PATIENT_STUDY if keyword not in dataset]
        if missing:
            dataset = deepcopy(dataset)
            for keyword in missing:
                setattr(dataset, keyword, "")
        fixed.append(dataset)
    return fixed
