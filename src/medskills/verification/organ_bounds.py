"""Plausible adult organ volumes and fragmentation limits, with the source of each range.

The ranges are engineering plausibility bounds for catching broken outputs (an empty liver, a
shattered spleen), widened well beyond the cited normal values; they are not diagnostic reference
ranges. An organ cut by the field of view (it touches a face of the volume) is only checked against
the upper bound, since any smaller volume is possible for a partial organ. The table, with the
citation of every range, is data: ``medskills/data/verification/organ_bounds.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from medskills.core.label_spaces import LabelSpace, load_anatomy_table, load_label_dictionary

__all__ = ["OrganBound", "load_organ_bounds", "organ_class_ids"]


@dataclass(frozen=True)
class OrganBound:
    """Volume range (mL) and minimum largest-component fraction of one organ, with its source.

    ``anatomy`` is a name in the shared anatomy table; the organ's voxels are those of every class
    whose anatomy is ``anatomy`` or one of its parts (lung lobes count towards their lung).
    """

    anatomy: str
    min_volume_ml: float
    max_volume_ml: float
    min_largest_component_fraction: float
    source: str


@cache
def load_organ_bounds() -> tuple[OrganBound, ...]:
    """The bounded organs, from ``medskills/data/verification/organ_bounds.json`` (each range with its source)."""
    text = resources.files("medskills").joinpath("data", "verification", "organ_bounds.json").read_text("utf-8")
    return tuple(OrganBound(**item) for item in json.loads(text)["organs"])


def organ_class_ids(bound: OrganBound, space: LabelSpace) -> list[int]:
    """Class ids of ``space`` that belong to ``bound``'s organ (the organ itself and its parts)."""
    table = load_anatomy_table()
    dictionary = load_label_dictionary(space)
    ids = []
    for row in table.values():
        name = row.names[space]
        if name is None:
            continue
        anatomy: str | None = row.anatomy
        while anatomy is not None and anatomy != bound.anatomy:
            anatomy = table[anatomy].parent
        if anatomy is not None:
            ids.append(dictionary.id_of(name))
    return sorted(ids)
