"""The lungs the triage pipeline found, as a DICOM SEG built with highdicom.

The segment is the lung field (aerated lung plus what it encloses on each slice, airways removed):
the region the qct member measures, so its volume is the report's lung volume.

The mask lives on the study's canonical RAS+ grid (the analysed series' own voxels, axes reordered).
highdicom takes it as a :class:`highdicom.Volume` in patient (LPS) coordinates, one axial frame per
slice, and infers from the frame positions which source instance each frame belongs to, so the SEG
references the analysed series instance by instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from medskills.dicom.derived_sources import with_type2_patient_study

if TYPE_CHECKING:
    from highdicom.seg import Segmentation
    from pydicom import Dataset

__all__ = ["LUNG_SEGMENT_LABEL", "build_lung_seg"]

LUNG_SEGMENT_LABEL = "Lung field (as measured by qct)"
_LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def build_lung_seg(mask: npt.NDArray[np.bool_], affine_ras: npt.NDArray[np.float64], *, sources: Sequence[Dataset],
                   series_instance_uid: str, sop_instance_uid: str, model_version: str,
                   series_number: int = 9902) -> Segmentation:
    """A BINARY SEG with one segment (SNOMED CT lung) of ``mask`` (voxel-index order, RAS ``affine_ras``).

    Raises:
        ValueError: the mask is empty (there is nothing to encode), ``sources`` is empty or has no
            FrameOfReferenceUID.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if not sources:
        raise ValueError("build_lung_seg needs the analysed series' headers as sources")
    if not mask.any():
        raise ValueError("the lung mask is empty; no SEG is written for it")
    frame_of_reference = str(sources[0].get("FrameOfReferenceUID", "") or "")
    if not frame_of_reference:
        raise ValueError("the analysed series has no FrameOfReferenceUID; a SEG could not be placed on it")
    volume = hd.Volume(array=mask.astype(np.uint8), affine=_LPS_FROM_RAS @ affine_ras, coordinate_system="PATIENT",
                       frame_of_reference_uid=frame_of_reference)
    algorithm = hd.AlgorithmIdentificationSequence(name="medskills chest-CT triage lung finder",
                                                   version=model_version, family=codes.cid7162.ArtificialIntelligence)
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label=LUNG_SEGMENT_LABEL,
        segmented_property_category=codes.SCT.AnatomicalStructure, segmented_property_type=codes.SCT.Lung,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algorithm,
        tracking_id="medskills:lungs", tracking_uid=hd.UID())
    return hd.seg.Segmentation(
        source_images=with_type2_patient_study(sources),
        pixel_array=volume.to_patient_orientation(_source_orientation(sources[0])),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[description],
        series_instance_uid=series_instance_uid, series_number=series_number, sop_instance_uid=sop_instance_uid,
        instance_number=1, manufacturer="medskills", manufacturer_model_name="medskills chest-CT triage",
        software_versions=model_version, device_serial_number="none",
        series_description="medskills lung mask (not for clinical use)")


def _source_orientation(source: Dataset) -> str:
    """Patient-orientation codes (LPS letters) of the source's slice normal, column and row directions.

    The mask is reordered to them, so each SEG frame lies exactly on a source slice and highdicom can
    tie it to that instance.
    """
    orientation = np.asarray(source.ImageOrientationPatient, dtype=float)
    row_direction, column_direction = orientation[:3], orientation[3:]
    normal = np.cross(row_direction, column_direction)
    return "".join(_code(vector) for vector in (normal, column_direction, row_direction))


def _code(vector: npt.NDArray[np.float64]) -> str:
    axis = int(np.argmax(np.abs(vector)))
    return ("LR", "PA", "HF")[axis][0 if vector[axis] > 0 else 1]
