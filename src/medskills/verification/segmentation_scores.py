"""Agreement of a predicted label map with a reference, across label spaces when needed."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medskills.core.label_spaces import (
    AnatomyUnit,
    LabelSpace,
    align_label_maps,
    load_label_dictionary,
    rows_by_class_name,
)
from medskills.core.preflight import parse_choice
from medskills.verification.metrics import confusion_matrix, hd95_mm, overlap_per_class
from medskills.verification.verdict import ClassScore, SegmentationScores

__all__ = ["score_segmentation"]


def score_segmentation(
    prediction: npt.NDArray[np.generic],
    reference: npt.NDArray[np.generic],
    *,
    prediction_space: LabelSpace | str,
    reference_space: LabelSpace | str,
    spacing_mm: tuple[float, float, float],
    dice_floors: dict[str, float] | None = None,
) -> SegmentationScores:
    """Per-structure Dice, IoU, volume difference (mL) and HD95 (mm) of ``prediction`` against ``reference``.

    Both maps are first put on shared anatomy units (:func:`align_label_maps`); Dice and IoU of every
    unit come from one confusion matrix; HD95 is computed only for units present on both sides.
    A Dice floor applies to a structure named by its unit, by the class name of any of its ids in
    either space, or by that class's anatomy name (any letter case), so ``left kidney`` and
    ``kidney_left`` set the same floor whichever spaces are compared; the strictest floor wins.

    Raises:
        UsageError: a label space that is not one of :class:`LabelSpace`.
    """
    from scipy import ndimage

    prediction_space = parse_choice(LabelSpace, prediction_space, where="prediction label space")
    reference_space = parse_choice(LabelSpace, reference_space, where="reference label space")
    aligned = align_label_maps(prediction, reference, prediction_space=prediction_space,
                               reference_space=reference_space)
    num_units = len(aligned.units) + 1
    matrix = confusion_matrix(aligned.prediction, aligned.reference, num_classes=num_units)
    overlaps = overlap_per_class(matrix, [unit.unit_id for unit in aligned.units])
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    floors = {name.casefold(): value for name, value in (dice_floors or {}).items()}
    floors_used: set[str] = set()
    prediction_boxes = ndimage.find_objects(aligned.prediction, max_label=num_units)
    reference_boxes = ndimage.find_objects(aligned.reference, max_label=num_units)
    classes = []
    for unit, overlap in zip(aligned.units, overlaps, strict=True):
        unit_floors = {name: floors[name] for name in _names_of(unit, prediction_space, reference_space)
                       if name in floors}
        floors_used.update(unit_floors)
        distance = None
        if overlap.prediction_voxels and overlap.reference_voxels:
            box = _union(prediction_boxes[unit.unit_id - 1], reference_boxes[unit.unit_id - 1])
            distance = hd95_mm(aligned.prediction[box] == unit.unit_id, aligned.reference[box] == unit.unit_id,
                               spacing_mm)
        classes.append(ClassScore(
            name=unit.anatomy, prediction_ids=unit.prediction_ids, reference_ids=unit.reference_ids,
            prediction_volume_ml=round(overlap.prediction_voxels * voxel_ml, 4),
            reference_volume_ml=round(overlap.reference_voxels * voxel_ml, 4),
            volume_difference_ml=round((overlap.prediction_voxels - overlap.reference_voxels) * voxel_ml, 4),
            dice=None if overlap.dice is None else round(overlap.dice, 6),
            iou=None if overlap.iou is None else round(overlap.iou, 6),
            hd95_mm=None if distance is None else round(distance, 4),
            dice_floor=max(unit_floors.values(), default=None),
        ))
    return SegmentationScores(
        prediction_space=prediction_space.value, reference_space=reference_space.value, classes=classes,
        merged=list(aligned.merges), without_counterpart=list(aligned.unpaired),
        unmatched_dice_floors=[name for name in (dice_floors or {}) if name.casefold() not in floors_used],
    )


def _names_of(unit: AnatomyUnit, prediction_space: LabelSpace, reference_space: LabelSpace) -> set[str]:
    """Every casefolded name a user may give ``unit``: its own, its classes' names and their anatomy names."""
    names = {unit.anatomy.casefold()}
    for space, ids in ((prediction_space, unit.prediction_ids), (reference_space, unit.reference_ids)):
        dictionary = load_label_dictionary(space)
        rows = rows_by_class_name(space)
        for label_id in ids:
            if label_id in dictionary:
                class_name = dictionary.name_of(label_id).casefold()
                names.add(class_name)
                if class_name in rows:
                    names.add(rows[class_name].anatomy.casefold())
    return names


def _union(first: tuple[slice, ...], second: tuple[slice, ...]) -> tuple[slice, ...]:
    """Bounding box of two boxes (each from ``ndimage.find_objects``)."""
    return tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(first, second, strict=True))
