"""Put two label maps from different label spaces on one set of shared anatomy units.

Each present class becomes an anatomy *unit*: the anatomy the mapping table reaches in the other
space (lobes become ``left lung`` when the other side only has whole lungs), or its own anatomy when
the other side is finer (``lung_left`` against lobes). When one side carries a coarse class (VISTA3D
``kidney``) and the other its parts (left and right kidney), the parts are merged into the coarse unit
on both sides and the merge is recorded, so different structures are never compared silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medskills.core.label_spaces._dictionary import BACKGROUND_ID, LabelSpace, load_label_dictionary
from medskills.core.label_spaces._mapping import (
    ClassMapping,
    UnmappedClass,
    UnmappedReason,
    build_label_mapping,
    load_anatomy_table,
    rows_by_class_name,
)
from medskills.core.models import FrozenModel
from medskills.core.volumes import as_label_map

__all__ = ["AlignedLabelMaps", "AnatomyUnit", "UnitMerge", "UnpairedClass", "align_label_maps"]


class AnatomyUnit(FrozenModel):
    """One compared structure: its unit id in the aligned maps and the source classes on each side."""

    unit_id: int
    anatomy: str
    prediction_ids: list[int]
    reference_ids: list[int]


class UnitMerge(FrozenModel):
    """Several classes of one side compared as one unit, because the other side labels them as one."""

    into: str
    prediction_classes: list[str]
    reference_classes: list[str]
    reason: str


class UnpairedClass(FrozenModel):
    """A present class left out of the comparison because the other space cannot express it."""

    side: str
    label_id: int
    name: str | None
    voxel_count: int
    reason: UnmappedReason


@dataclass(frozen=True)
class AlignedLabelMaps:
    """Both maps rewritten to unit ids (0 = background or left out), with how units were formed."""

    prediction: npt.NDArray[np.integer]
    reference: npt.NDArray[np.integer]
    units: tuple[AnatomyUnit, ...]
    merges: tuple[UnitMerge, ...]
    unpaired: tuple[UnpairedClass, ...]


def align_label_maps(
    prediction: npt.NDArray[np.generic],
    reference: npt.NDArray[np.generic],
    *,
    prediction_space: LabelSpace | str,
    reference_space: LabelSpace | str,
) -> AlignedLabelMaps:
    """Rewrite ``prediction`` and ``reference`` (same shape) into shared anatomy units.

    Within one label space the ids are kept (each id is its own unit). Across spaces each side goes
    through the anatomy table once (one ``np.bincount`` and one lookup-table ``np.take`` per side).
    """
    prediction_space, reference_space = LabelSpace(prediction_space), LabelSpace(reference_space)
    prediction = as_label_map(prediction, where="prediction")
    reference = as_label_map(reference, where="reference")
    prediction_counts = np.bincount(prediction.ravel())
    reference_counts = np.bincount(reference.ravel())
    prediction_units = _units_of_present(prediction_counts, prediction_space, reference_space)
    reference_units = _units_of_present(reference_counts, reference_space, prediction_space)
    unpaired = _unpaired("prediction", prediction_counts, prediction_space, prediction_units, reference_space)
    unpaired += _unpaired("reference", reference_counts, reference_space, reference_units, prediction_space)
    _merge_into_coarse_units(prediction_units, reference_units)
    names = _ordered_unit_names(prediction_units, reference_units)
    unit_ids = {name: index for index, name in enumerate(names, start=1)}
    units = tuple(
        AnatomyUnit(
            unit_id=unit_ids[name],
            anatomy=name,
            prediction_ids=sorted(k for k, v in prediction_units.items() if v == name),
            reference_ids=sorted(k for k, v in reference_units.items() if v == name),
        )
        for name in names
    )
    merges = tuple(_describe_merge(unit, prediction_space, reference_space) for unit in units
                   if len(unit.prediction_ids) > 1 or len(unit.reference_ids) > 1)
    return AlignedLabelMaps(
        prediction=_apply(prediction, prediction_counts.size, prediction_units, unit_ids),
        reference=_apply(reference, reference_counts.size, reference_units, unit_ids),
        units=units,
        merges=merges,
        unpaired=tuple(unpaired),
    )


def _units_of_present(counts: npt.NDArray[np.int64], space: LabelSpace, other: LabelSpace) -> dict[int, str]:
    """Unit name of each present class id of ``space`` against ``other`` (absent when it has no counterpart)."""
    present = [int(i) for i in np.flatnonzero(counts) if i != BACKGROUND_ID]
    if space is other:
        return {i: _class_name(space, i) for i in present}
    plan = build_label_mapping(space, other)
    rows = rows_by_class_name(space)
    units: dict[int, str] = {}
    for label_id in present:
        item = plan.get(label_id)
        if isinstance(item, ClassMapping):
            units[label_id] = item.anatomy
        elif item is not None and item.reason is UnmappedReason.TARGET_IS_FINER and item.source_name:
            units[label_id] = rows[item.source_name.casefold()].anatomy
    return units


def _unpaired(
    side: str, counts: npt.NDArray[np.int64], space: LabelSpace, units: dict[int, str], other: LabelSpace
) -> list[UnpairedClass]:
    dictionary = load_label_dictionary(space)
    plan = build_label_mapping(space, other) if space is not other else {}
    result = []
    for label_id in (int(i) for i in np.flatnonzero(counts)):
        if label_id == BACKGROUND_ID or label_id in units:
            continue
        item = plan.get(label_id)
        reason = item.reason if isinstance(item, UnmappedClass) else UnmappedReason.NOT_IN_SOURCE_SPACE
        name = dictionary.name_of(label_id) if label_id in dictionary else None
        result.append(UnpairedClass(side=side, label_id=label_id, name=name,
                                    voxel_count=int(counts[label_id]), reason=reason))
    return result


def _merge_into_coarse_units(prediction_units: dict[int, str], reference_units: dict[int, str]) -> None:
    """Rename units whose ancestor is also a present unit to that (topmost) ancestor, on both sides."""
    table = load_anatomy_table()
    present = set(prediction_units.values()) | set(reference_units.values())
    renamed: dict[str, str] = {}
    for unit in present:
        parent, coarsest = table[unit].parent if unit in table else None, None
        while parent is not None:
            if parent in present:
                coarsest = parent
            parent = table[parent].parent
        if coarsest is not None:
            renamed[unit] = coarsest
    for units in (prediction_units, reference_units):
        for label_id, unit in units.items():
            units[label_id] = renamed.get(unit, unit)


def _describe_merge(unit: AnatomyUnit, prediction_space: LabelSpace, reference_space: LabelSpace) -> UnitMerge:
    prediction_names = [_class_name(prediction_space, i) for i in unit.prediction_ids]
    reference_names = [_class_name(reference_space, i) for i in unit.reference_ids]
    return UnitMerge(
        into=unit.anatomy, prediction_classes=prediction_names, reference_classes=reference_names,
        reason=f"the two label spaces split {unit.anatomy!r} differently; the classes listed on each side "
        "are merged and compared as one structure",
    )


def _class_name(space: LabelSpace, label_id: int) -> str:
    dictionary = load_label_dictionary(space)
    return dictionary.name_of(label_id) if label_id in dictionary else f"id {label_id}"


def _ordered_unit_names(prediction_units: dict[int, str], reference_units: dict[int, str]) -> list[str]:
    """Unit names in anatomy-table order, then by the smallest class id that forms them."""
    table_order = {name: index for index, name in enumerate(load_anatomy_table())}
    smallest_id: dict[str, int] = {}
    for units in (prediction_units, reference_units):
        for label_id, name in units.items():
            smallest_id[name] = min(label_id, smallest_id.get(name, label_id))
    return sorted(smallest_id, key=lambda name: (table_order.get(name, len(table_order)), smallest_id[name]))


def _apply(
    labels: npt.NDArray[np.integer], size: int, units: dict[int, str], unit_ids: dict[str, int]
) -> npt.NDArray[np.integer]:
    dtype = np.uint8 if len(unit_ids) <= np.iinfo(np.uint8).max else np.uint16
    lookup = np.zeros(size, dtype=dtype)
    for label_id, unit in units.items():
        lookup[label_id] = unit_ids[unit]
    return np.take(lookup, labels)
