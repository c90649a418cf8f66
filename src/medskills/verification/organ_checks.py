"""Organ volume and fragmentation checks on a label map, in any label space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medskills.core.label_spaces import LabelSpace

from medskills.core.volumes import label_statistics
from medskills.verification.organ_bounds import OrganBound, load_organ_bounds, organ_class_ids
from medskills.verification.verdict import VerdictCheck, check

__all__ = ["OrganMeasurement", "largest_component_fraction", "measure_organs", "organ_checks"]


@dataclass(frozen=True)
class OrganMeasurement:
    """Volume (mL), field-of-view cut and largest-component fraction of one organ present in the map."""

    bound: OrganBound
    class_ids: tuple[int, ...]
    volume_ml: float
    is_cut_by_field_of_view: bool
    largest_component_fraction: float
    component_count: int


def largest_component_fraction(mask: npt.NDArray[np.bool_]) -> tuple[float, int]:
    """Fraction of the mask's voxels in its largest 26-connected component, and the component count."""
    from scipy import ndimage

    components, count = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    if count == 0:
        return 0.0, 0
    sizes = np.bincount(components.ravel())[1:]
    return float(sizes.max() / sizes.sum()), int(count)


def measure_organs(
    labels: npt.NDArray[np.integer], *, space: LabelSpace, spacing_mm: tuple[float, float, float]
) -> list[OrganMeasurement]:
    """Measure every organ of :func:`load_organ_bounds` that has voxels in ``labels`` (voxel-index order)."""
    from scipy import ndimage

    statistics = label_statistics(labels, spacing_mm).by_id()
    on_faces = set(np.flatnonzero(np.bincount(_face_voxels(labels))).tolist())
    boxes = ndimage.find_objects(labels)
    result = []
    for bound in load_organ_bounds():
        ids = [i for i in organ_class_ids(bound, space) if i in statistics]
        if not ids:
            continue
        box = _union_box([boxes[i - 1] for i in ids])
        fraction, count = largest_component_fraction(np.isin(labels[box], ids))
        result.append(OrganMeasurement(
            bound=bound, class_ids=tuple(ids),
            volume_ml=round(sum(statistics[i].volume_ml for i in ids), 4),
            is_cut_by_field_of_view=bool(on_faces.intersection(ids)),
            largest_component_fraction=round(fraction, 4), component_count=count,
        ))
    return result


def organ_checks(measurements: list[OrganMeasurement]) -> tuple[list[VerdictCheck], list[VerdictCheck]]:
    """One volume check and one fragmentation check per measured organ: (volume checks, fragmentation)."""
    volume_checks, fragmentation_checks = [], []
    for item in measurements:
        bound = item.bound
        low = None if item.is_cut_by_field_of_view else bound.min_volume_ml
        is_inside = item.volume_ml <= bound.max_volume_ml and (low is None or item.volume_ml >= low)
        cut_note = " (cut by the field of view: only the upper bound applies)" if low is None else ""
        volume_checks.append(check(
            f"volume_{bound.anatomy.replace(' ', '_')}", passed=is_inside, measured=item.volume_ml,
            threshold=f"{low if low is not None else 0:g}-{bound.max_volume_ml:g} mL",
            reason=f"{bound.anatomy}: {item.volume_ml:.1f} mL{cut_note}. Range source: {bound.source}",
        ))
        fragmentation_checks.append(check(
            f"fragmentation_{bound.anatomy.replace(' ', '_')}",
            passed=item.largest_component_fraction >= bound.min_largest_component_fraction,
            measured=item.largest_component_fraction, threshold=bound.min_largest_component_fraction,
            reason=f"{bound.anatomy}: {item.largest_component_fraction:.1%} of its volume in the largest of "
            f"{item.component_count} connected components (26-connectivity)",
        ))
    return volume_checks, fragmentation_checks


def _face_voxels(labels: npt.NDArray[np.integer]) -> npt.NDArray[np.integer]:
    faces = [labels[index] for axis in range(labels.ndim) for index in _face_indices(axis, labels.ndim)]
    return np.concatenate([face.ravel() for face in faces])


def _face_indices(axis: int, ndim: int) -> list[tuple[slice | int, ...]]:
    return [tuple(side if a == axis else slice(None) for a in range(ndim)) for side in (0, -1)]


def _union_box(boxes: list[tuple[slice, ...] | None]) -> tuple[slice, ...]:
    present = [box for box in boxes if box is not None]
    return tuple(slice(min(box[a].start for box in present), max(box[a].stop for box in present))
                 for a in range(len(present[0])))
