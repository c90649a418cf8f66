"""Write the label map as a DICOM SEG that references its source instances, and prove it reads back aligned.

highdicom does the geometry: the label map (NIfTI, RAS) becomes a ``highdicom.Volume``, is matched to
the source series' own grid (``match_geometry`` fails loudly if the grids differ), and is encoded as a
BINARY SEG with one segment per class present, named from the label dictionary. The check reads the
file back with pydicom and highdicom and compares the frames fetched *by source instance UID* with
the label map on the source grid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import GateFailure
from medskills.segmentation.models import DicomSegSummary

if TYPE_CHECKING:
    import highdicom as hd
    from pydicom import Dataset

__all__ = ["SegSource", "read_seg_sources", "write_dicom_seg"]

logger = logging.getLogger(__name__)

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
_LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
# Type 2 patient and study attributes a SEG copies from its source: required, but allowed empty, so a
# source that leaves one out (some exporters and de-identifiers do) gets it as an empty value.
_TYPE2_COPIED_ATTRIBUTES = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                            "ReferringPhysicianName", "StudyID", "AccessionNumber")


@dataclass(frozen=True)
class SegSource:
    """Source headers in slice order along the normal, the grid highdicom derives from them, repairs made."""

    datasets: list[Dataset]
    geometry: hd.VolumeGeometry
    repaired_attributes: list[str]


def read_seg_sources(paths: Sequence[Path], *, study_uid: str, series_uid: str) -> SegSource:
    """Read source headers (no pixels) and fill UIDs that de-identification blanked.

    SOP Class/Instance UIDs come from each file's own meta header; blank Study/Series UIDs take the
    reader's values, so the SEG and the run record name the same series; a missing Type 2 patient or
    study attribute is added empty. Each repair is listed; the files themselves are never modified.
    """
    import highdicom as hd
    import pydicom

    datasets = [pydicom.dcmread(path, stop_before_pixels=True) for path in paths]
    repaired: set[str] = set()
    for dataset in datasets:
        for attribute, value in (("SOPClassUID", dataset.file_meta.get("MediaStorageSOPClassUID")),
                                 ("SOPInstanceUID", dataset.file_meta.get("MediaStorageSOPInstanceUID")),
                                 ("StudyInstanceUID", study_uid), ("SeriesInstanceUID", series_uid)):
            if not str(dataset.get(attribute, "") or "") and value:
                setattr(dataset, attribute, value)
                repaired.add(attribute)
        for attribute in _TYPE2_COPIED_ATTRIBUTES:
            if attribute not in dataset:
                setattr(dataset, attribute, None)
                repaired.add(attribute)
    spacing, positions = hd.spatial.get_series_volume_positions(datasets)
    if spacing is None or positions is None:
        raise GateFailure("the DICOM series does not form a regular volume; a DICOM SEG cannot reference it frame by "
                          "frame. Use --output-type nifti.")
    ordered = [datasets[i] for i in np.argsort(positions)]
    first = ordered[0]
    geometry = hd.VolumeGeometry.from_attributes(
        image_position=first.ImagePositionPatient, image_orientation=first.ImageOrientationPatient,
        rows=first.Rows, columns=first.Columns, pixel_spacing=first.PixelSpacing, spacing_between_slices=spacing,
        number_of_frames=len(ordered), coordinate_system="PATIENT",
    )
    return SegSource(datasets=ordered, geometry=geometry, repaired_attributes=sorted(repaired))


def write_dicom_seg(
    *, labels: npt.NDArray[np.integer], affine_ras: npt.NDArray[np.float64], source: SegSource,
    names: dict[int, str], output_path: Path, algorithm_version: str,
) -> DicomSegSummary:
    """Encode ``labels`` (voxel-index order, RAS ``affine_ras``) as a BINARY SEG and verify the file.

    Raises:
        GateFailure: no class is present, or the label grid is not the source grid.
    """
    import highdicom as hd
    from pydicom.uid import generate_uid

    present = [int(i) for i in np.flatnonzero(np.bincount(labels.ravel())) if i != 0]
    if not present:
        raise GateFailure("the label map is empty; a DICOM SEG needs at least one segment.")
    lookup = np.zeros(max(present) + 1, dtype=np.uint16)
    lookup[present] = np.arange(1, len(present) + 1)
    segment_numbers = np.take(lookup, labels).astype(np.uint8 if len(present) < 256 else np.uint16)
    volume = hd.Volume(array=segment_numbers, affine=_LPS_FROM_RAS @ affine_ras, coordinate_system="PATIENT")
    try:
        on_source_grid = volume.match_geometry(source.geometry)
    except (ValueError, RuntimeError) as err:
        raise GateFailure(f"the label map's grid does not match the DICOM series: {err}") from err
    try:
        segmentation = hd.seg.Segmentation(
            source_images=source.datasets, pixel_array=on_source_grid,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=_descriptions(present, names, algorithm_version),
            series_instance_uid=generate_uid(), series_number=9901, sop_instance_uid=generate_uid(), instance_number=1,
            manufacturer="medskills", manufacturer_model_name="nv-segment-ctmr (VISTA3D)",
            software_versions=algorithm_version, device_serial_number="none",
            series_description="NV-Segment-CTMR labels (not for clinical use)",
        )
    except ValueError as err:  # highdicom's IOD checks on the source headers (e.g. no Frame of Reference UID)
        raise GateFailure(f"the source series cannot be referenced by a DICOM SEG: {err} "
                          "Use --output-type nifti for this series.") from err
    output_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = output_path.with_name(f".{output_path.name}.tmp")
    segmentation.save_as(temporary)
    temporary.replace(output_path)
    return _verify(output_path, source=source, expected=np.asarray(on_source_grid.array), segment_count=len(present))


def _descriptions(present: list[int], names: dict[int, str], algorithm_version: str) -> list[Any]:
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    algorithm = hd.AlgorithmIdentificationSequence(name="NV-Segment-CTMR VISTA3D", version=algorithm_version,
                                                   family=codes.DCM.ArtificialIntelligence)
    return [
        hd.seg.SegmentDescription(
            segment_number=number, segment_label=names.get(label_id, f"label_id_{label_id}")[:64],
            segmented_property_category=codes.SCT.AnatomicalStructure, segmented_property_type=codes.SCT.Organ,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algorithm,
            tracking_id=f"vista3d:{label_id}", tracking_uid=generate_uid(),
        )
        for number, label_id in enumerate(present, start=1)
    ]


def _verify(path: Path, *, source: SegSource, expected: npt.NDArray[np.integer], segment_count: int) -> DicomSegSummary:
    """Read the SEG back with pydicom and highdicom; frames by source instance must equal ``expected``."""
    import highdicom as hd
    import pydicom

    raw = pydicom.dcmread(path)
    source_uids = [str(dataset.SOPInstanceUID) for dataset in source.datasets]
    referenced = {str(item.ReferencedSOPInstanceUID) for series in raw.ReferencedSeriesSequence
                  for item in series.ReferencedInstanceSequence}
    is_readable_pydicom = (str(raw.SOPClassUID) == SEGMENTATION_STORAGE and len(raw.SegmentSequence) == segment_count
                           and referenced <= set(source_uids))
    segmentation = hd.seg.segread(path)
    frames = segmentation.get_pixels_by_source_instance(source_sop_instance_uids=source_uids, combine_segments=True)
    is_realigned = frames.shape == expected.shape and bool(np.array_equal(frames, expected))
    if not is_realigned:
        logger.error("DICOM SEG %s does not realign with the source series", path)
    return DicomSegSummary(
        path=path, sop_instance_uid=str(raw.SOPInstanceUID), series_instance_uid=str(raw.SeriesInstanceUID),
        segment_count=len(segmentation.SegmentSequence), frame_count=int(raw.NumberOfFrames),
        referenced_instance_count=len(referenced), is_readable_pydicom=is_readable_pydicom,
        is_readable_highdicom=True, is_realigned=is_realigned, repaired_source_attributes=source.repaired_attributes,
    )
