"""A user's label map made ready for ``scripts.infer_image_from_mask``: converted, enveloped, validated.

Upstream only warns about foreign ids and a missing body label, then produces unusable images; here
those are preflight errors. A TotalSegmentator or NV-Segment-CTMR (VISTA3D) map is converted to MAISI
ids by anatomy name through the one shared table in ``core.label_spaces``; the body label 200 can be
derived from the paired CT. Every step is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.core.image_volume import canonical_transform
from medskills.core.label_spaces import LabelMappingRecord, LabelSpace, map_labels
from medskills.core.models import FrozenModel
from medskills.core.preflight import PreflightCollector
from medskills.core.volumes import Geometry, LabelStatistics, as_label_map, label_statistics, read_volume
from medskills.synthesis.nv_generate.body_envelope import BODY_LABEL, BodyEnvelopeSummary, add_body_envelope

__all__ = ["MAX_MAISI_ID", "MaskEvidence", "PreparedMask", "SourceLabels", "prepare_user_mask", "ras_grid"]

MAX_MAISI_ID = 132
CT_SIZES_XY = (256, 384, 512)
CT_SIZES_Z = (128, 256, 384, 512, 640, 768)
CT_SPACING_XY_MM = (0.5, 3.0)
CT_SPACING_Z_MM = (0.5, 5.0)


class SourceLabels(StrEnum):
    """Label spaces a user mask may come in (converted to MAISI by anatomy name)."""

    MAISI = "maisi"
    TOTALSEGMENTATOR = "totalsegmentator"
    TOTALSEGMENTATOR_MR = "totalsegmentator_mr"
    VISTA3D = "vista3d"


class MaskEvidence(FrozenModel):
    """The mask upstream receives: where it came from, what it holds, and how it was prepared."""

    source_path: Path
    source_labels: SourceLabels
    geometry: Geometry
    label_statistics: LabelStatistics
    conversion: LabelMappingRecord | None = None
    body_envelope: BodyEnvelopeSummary | None = None
    body_envelope_ct: Path | None = None
    is_upstream_resampled: bool = False


@dataclass(frozen=True)
class PreparedMask:
    """The prepared label map (MAISI ids, voxel-index order) with its affine and evidence."""

    labels: npt.NDArray[np.integer]
    affine: npt.NDArray[np.float64]
    evidence: MaskEvidence

    @property
    def is_changed(self) -> bool:
        """True when the map differs from the user's file (it must then be written and fed upstream)."""
        return self.evidence.conversion is not None or self.evidence.body_envelope is not None


def _convert(collector: PreflightCollector, labels: npt.NDArray[np.integer], source: SourceLabels
             ) -> tuple[npt.NDArray[np.integer], LabelMappingRecord | None]:
    if source is SourceLabels.MAISI:
        return labels, None
    conversion = map_labels(labels, source=LabelSpace(source.value), target=LabelSpace.MAISI)
    for item in conversion.record.unmapped:
        collector.warning("class_unmapped", f"{source.value} class {item.source_id} ({item.source_name}) has no MAISI "
                          f"counterpart ({item.reason.value}); its {item.voxel_count} voxels become background.",
                          field="--source-labels")
    return conversion.labels, conversion.record


def _envelope(collector: PreflightCollector, labels: npt.NDArray[np.integer], affine: npt.NDArray[np.float64],
              ct_path: Path) -> tuple[npt.NDArray[np.integer], BodyEnvelopeSummary | None]:
    try:
        ct = read_volume(ct_path)
        result = add_body_envelope(labels, ct.array, affine)
    except InputError as err:
        collector.error("body_envelope_ct", str(err), field="--add-body-envelope",
                        fix="pass the CT (NIfTI, HU) the mask was segmented from")
        return labels, None
    if float(np.abs(ct.affine - affine).max()) > 1e-3:
        collector.warning("body_envelope_affine", "the CT's affine differs from the mask's; the envelope assumes "
                          "they share a grid.", field="--add-body-envelope")
    return result.labels, result.summary


def _validate_ids(collector: PreflightCollector, stats: LabelStatistics, *, allow_missing_body_label: bool) -> None:
    foreign = [i for i in stats.label_ids_present if i > MAX_MAISI_ID and i != BODY_LABEL]
    if foreign:
        collector.error("mask_foreign_ids", f"mask holds ids outside MAISI's 0..{MAX_MAISI_ID} and {BODY_LABEL}: "
                        f"{foreign[:20]}.", field="mask_path",
                        fix="convert the map with --source-labels totalsegmentator|vista3d, or remap it to MAISI ids")
    if BODY_LABEL not in stats.label_ids_present and not allow_missing_body_label:
        collector.error("mask_no_body", f"mask has no body label {BODY_LABEL}; upstream then produces poor images.",
                        field="mask_path", fix="pass --add-body-envelope CT.nii.gz (or --allow-missing-body-label)")
    if not [i for i in stats.label_ids_present if i != BODY_LABEL]:
        collector.error("mask_no_foreground", "mask has no anatomy class (only background and body).",
                        field="mask_path", fix="pass a label map with at least one organ")


def ras_grid(geometry: Geometry) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """Shape and spacing (affine column norms) after reorienting to RAS, as upstream's ``validate_user_mask``
    sees the mask (it loads it with MONAI's ``Orientationd(axcodes="RAS")``)."""
    transform = canonical_transform(np.asarray(geometry.affine, dtype=np.float64), geometry.shape)
    return transform.canonical_shape, transform.canonical_spacing_mm


def _check_geometry(collector: PreflightCollector, geometry: Geometry) -> bool:
    """Warn when upstream will resample the mask (shape or spacing outside its CT sets); True if so. The rule
    is upstream's ``_is_valid_target`` on the RAS grid, its 1e-6 mm tolerance included."""
    (x, y, z), (sx, sy, sz) = ras_grid(geometry)
    is_valid = (x == y and x in CT_SIZES_XY and z in CT_SIZES_Z and abs(sx - sy) < 1e-6
                and CT_SPACING_XY_MM[0] <= sx <= CT_SPACING_XY_MM[1] and CT_SPACING_Z_MM[0] <= sz <= CT_SPACING_Z_MM[1])
    if not is_valid:
        collector.warning("mask_resampled_upstream", f"mask grid {(x, y, z)} at {(sx, sy, sz)} mm (in RAS order) is "
                          "outside upstream's CT sizes/spacings; upstream resamples it (nearest neighbour) to the "
                          "nearest valid grid, which degrades boundaries.", field="mask_path")
    return not is_valid


def prepare_user_mask(
    collector: PreflightCollector, mask_path: Path, *, source_labels: SourceLabels, body_envelope_ct: Path | None,
    allow_missing_body_label: bool,
) -> PreparedMask | None:
    """Read, convert, envelope and validate the mask; problems go to ``collector`` (None if unreadable)."""
    try:
        volume = read_volume(mask_path)
    except InputError as err:
        collector.error("mask_unreadable", str(err), field="mask_path", fix="pass a readable 3D NIfTI label map")
        return None
    try:
        labels: npt.NDArray[np.integer] = as_label_map(volume.array, where=str(mask_path))
        labels, conversion = _convert(collector, labels, source_labels)
        stats = label_statistics(labels, volume.geometry.spacing_mm)
    except InputError as err:
        collector.error("mask_not_label_map", str(err), field="mask_path",
                        fix="pass an integer label map (whole-number ids >= 0), not an image")
        return None
    envelope = None
    if body_envelope_ct is not None:
        labels, envelope = _envelope(collector, labels, volume.affine, body_envelope_ct)
        stats = label_statistics(labels, volume.geometry.spacing_mm)
    _validate_ids(collector, stats, allow_missing_body_label=allow_missing_body_label)
    geometry = volume.geometry.model_copy(update={"dtype": str(labels.dtype)})
    evidence = MaskEvidence(
        source_path=Path(mask_path).absolute(), source_labels=source_labels, geometry=geometry, label_statistics=stats,
        conversion=conversion, body_envelope=envelope,
        body_envelope_ct=None if body_envelope_ct is None else Path(body_envelope_ct).absolute(),
        is_upstream_resampled=_check_geometry(collector, volume.geometry),
    )
    return PreparedMask(labels=labels, affine=volume.affine, evidence=evidence)
