"""Name-based mapping between label spaces, and one-pass conversion of label maps.

The table ``medskills/data/labels/anatomy_map.json`` has one row per anatomy with the class name it
carries in each space. A class whose anatomy the target lacks is merged into the nearest ancestor
(``parent`` chain) the target has: TotalSegmentator's lung lobes become the VISTA3D-style ``left lung``
of ``totalsegmentator_mr``, single vertebrae become ``vertebrae``. A coarse class is never split into
finer ones (``lung_left`` cannot become MAISI lobes); such classes are reported as unmapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from medskills.core.label_spaces._dictionary import BACKGROUND_ID, LabelSpace, load_label_dictionary
from medskills.core.models import FrozenModel
from medskills.core.volumes import as_label_map

__all__ = [
    "AnatomyRow",
    "ClassMapping",
    "LabelConversion",
    "LabelMappingRecord",
    "MappingRelation",
    "UnmappedClass",
    "UnmappedReason",
    "build_label_mapping",
    "load_anatomy_table",
    "map_labels",
    "rows_by_class_name",
]


class MappingRelation(StrEnum):
    """How a source class reaches its target class."""

    SAME_ANATOMY = "same_anatomy"
    MERGED_INTO_PARENT = "merged_into_parent"


class UnmappedReason(StrEnum):
    """Why a source class has no target class; its voxels become background."""

    NO_COUNTERPART = "no_counterpart"
    TARGET_IS_FINER = "target_is_finer"
    NOT_IN_SOURCE_SPACE = "not_in_source_space"


class ClassMapping(FrozenModel):
    """One source class, the target class it was written as, and the voxels moved."""

    source_id: int
    source_name: str
    target_id: int
    target_name: str
    anatomy: str
    relation: MappingRelation
    voxel_count: int = 0


class UnmappedClass(FrozenModel):
    """One source class present in the map that has no target class."""

    source_id: int
    source_name: str | None
    reason: UnmappedReason
    voxel_count: int = 0


class LabelMappingRecord(FrozenModel):
    """Evidence of one conversion: the mapping applied to present classes and every unmapped class."""

    source_space: LabelSpace
    target_space: LabelSpace
    mapped: list[ClassMapping]
    unmapped: list[UnmappedClass]

    @property
    def merged(self) -> list[ClassMapping]:
        return [item for item in self.mapped if item.relation is MappingRelation.MERGED_INTO_PARENT]


@dataclass(frozen=True)
class AnatomyRow:
    """One row of the anatomy table: the class name of an anatomy in each space (None if absent)."""

    anatomy: str
    parent: str | None
    names: dict[LabelSpace, str | None]


@dataclass(frozen=True)
class LabelConversion:
    """A label map converted to another space, with the record of how (voxel-index order kept)."""

    labels: npt.NDArray[np.integer]
    record: LabelMappingRecord


@cache
def load_anatomy_table() -> dict[str, AnatomyRow]:
    """Load the packaged anatomy table, keyed by anatomy name."""
    text = resources.files("medskills").joinpath("data", "labels", "anatomy_map.json").read_text(encoding="utf-8")
    rows = json.loads(text)["anatomies"]
    return {
        row["anatomy"]: AnatomyRow(
            anatomy=row["anatomy"], parent=row["parent"], names={space: row.get(space.value) for space in LabelSpace}
        )
        for row in rows
    }


@cache
def rows_by_class_name(space: LabelSpace) -> dict[str, AnatomyRow]:
    """Anatomy rows keyed by the casefolded class name they carry in ``space``."""
    return {name.casefold(): row for row in load_anatomy_table().values() if (name := row.names[space])}


@cache
def build_label_mapping(
    source: LabelSpace, target: LabelSpace
) -> dict[int, ClassMapping | UnmappedClass]:
    """Map every class id of ``source`` to a target class, or explain why it has none (voxel counts 0)."""
    source, target = LabelSpace(source), LabelSpace(target)
    table = load_anatomy_table()
    source_dictionary, target_dictionary = load_label_dictionary(source), load_label_dictionary(target)
    anatomy_of = rows_by_class_name(source)
    has_finer = _ancestors_of_present(table, target)
    mapping: dict[int, ClassMapping | UnmappedClass] = {}
    for entry in source_dictionary.entries:
        row = own_row = anatomy_of.get(entry.name.casefold())
        relation = MappingRelation.SAME_ANATOMY
        while row is not None and row.names[target] is None and row.parent is not None:
            row, relation = table[row.parent], MappingRelation.MERGED_INTO_PARENT
        if row is None or row.names[target] is None:
            is_finer = own_row is not None and own_row.anatomy in has_finer
            reason = UnmappedReason.TARGET_IS_FINER if is_finer else UnmappedReason.NO_COUNTERPART
            mapping[entry.id] = UnmappedClass(source_id=entry.id, source_name=entry.name, reason=reason)
            continue
        target_name = row.names[target]
        assert target_name is not None
        mapping[entry.id] = ClassMapping(
            source_id=entry.id,
            source_name=entry.name,
            target_id=target_dictionary.id_of(target_name),
            target_name=target_dictionary.entry(target_name).name,
            anatomy=row.anatomy,
            relation=relation,
        )
    return mapping


def map_labels(
    labels: npt.NDArray[np.integer], *, source: LabelSpace | str, target: LabelSpace | str
) -> LabelConversion:
    """Convert a label map from ``source`` ids to ``target`` ids in one lookup-table pass.

    Args:
        labels: integer label map of any shape (voxel-index order is kept), ids of ``source``.
        source: label space of ``labels``.
        target: label space to write.

    Returns:
        The converted map (smallest unsigned dtype that holds the target ids) and a record of the
        mapping used for each class present and of every present class left unmapped (written as 0).

    Raises:
        InputError: ``labels`` holds non-integral or negative values.
    """
    source_space, target_space = LabelSpace(source), LabelSpace(target)
    if not np.issubdtype(labels.dtype, np.unsignedinteger):
        labels = as_label_map(labels, where=f"{source_space} label map")
    flat = labels.reshape(-1)
    counts = np.bincount(flat, minlength=BACKGROUND_ID + 1)
    plan = build_label_mapping(source_space, target_space)
    lookup = np.zeros(counts.size, dtype=_target_dtype(target_space))
    mapped: list[ClassMapping] = []
    unmapped: list[UnmappedClass] = []
    present_ids = np.flatnonzero(counts)
    for label_id in present_ids[present_ids != BACKGROUND_ID]:
        item = plan.get(int(label_id))
        voxels = int(counts[label_id])
        if isinstance(item, ClassMapping):
            lookup[label_id] = item.target_id
            mapped.append(item.model_copy(update={"voxel_count": voxels}))
        elif item is None:
            reason = UnmappedReason.NOT_IN_SOURCE_SPACE
            unmapped.append(UnmappedClass(source_id=int(label_id), source_name=None, reason=reason, voxel_count=voxels))
        else:
            unmapped.append(item.model_copy(update={"voxel_count": voxels}))
    converted = np.take(lookup, labels)
    record = LabelMappingRecord(source_space=source_space, target_space=target_space, mapped=mapped, unmapped=unmapped)
    return LabelConversion(labels=converted, record=record)


def _ancestors_of_present(table: dict[str, AnatomyRow], space: LabelSpace) -> set[str]:
    """Anatomies that have a finer descendant class in ``space`` (they could only be split, not mapped)."""
    ancestors: set[str] = set()
    for row in table.values():
        parent = row.parent if row.names[space] else None
        while parent is not None:
            ancestors.add(parent)
            parent = table[parent].parent
    return ancestors


def _target_dtype(target: LabelSpace) -> type[np.unsignedinteger]:
    return np.uint8 if load_label_dictionary(target).max_id <= np.iinfo(np.uint8).max else np.uint16
