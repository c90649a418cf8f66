"""Label spaces (MAISI, VISTA3D, TotalSegmentator) and name-based conversion between them."""

from medskills.core.label_spaces._alignment import (
    AlignedLabelMaps,
    AnatomyUnit,
    UnitMerge,
    UnpairedClass,
    align_label_maps,
)
from medskills.core.label_spaces._dictionary import (
    BACKGROUND_ID,
    LabelDictionary,
    LabelEntry,
    LabelSource,
    LabelSpace,
    load_label_dictionary,
    vista3d_subclasses,
)
from medskills.core.label_spaces._mapping import (
    AnatomyRow,
    ClassMapping,
    LabelConversion,
    LabelMappingRecord,
    MappingRelation,
    UnmappedClass,
    UnmappedReason,
    build_label_mapping,
    load_anatomy_table,
    map_labels,
    rows_by_class_name,
)
from medskills.core.label_spaces._modality import SegmentationModality

__all__ = [
    "BACKGROUND_ID",
    "AlignedLabelMaps",
    "AnatomyUnit",
    "UnitMerge",
    "UnpairedClass",
    "align_label_maps",
    "AnatomyRow",
    "ClassMapping",
    "LabelConversion",
    "LabelDictionary",
    "LabelEntry",
    "LabelMappingRecord",
    "LabelSource",
    "LabelSpace",
    "MappingRelation",
    "SegmentationModality",
    "UnmappedClass",
    "UnmappedReason",
    "build_label_mapping",
    "load_anatomy_table",
    "load_label_dictionary",
    "map_labels",
    "rows_by_class_name",
    "vista3d_subclasses",
]
