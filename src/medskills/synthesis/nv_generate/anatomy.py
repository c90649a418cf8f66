"""The MAISI anatomy table for CT synthesis: ids, display regions, and the 10 controllable slots.

Ids and names come from the packaged MAISI label space (``medskills.core.label_spaces``). When an
upstream clone's ``configs/label_dict.json`` is available it is the authority (upstream maps names
with it), and every difference from the packaged table is reported so preflight can warn.
Upstream has no body-region grouping of labels; the grouping here is ours, for listing and for the
field-of-view warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from medskills.core.errors import InputError, UsageError
from medskills.core.label_spaces import LabelSpace, load_label_dictionary
from medskills.core.models import FrozenModel
from medskills.core.preflight import suggestion_text
from medskills.core.settings import Settings

__all__ = [
    "CONTROLLABLE_SLOTS",
    "CONTROLLABLE_TUMORS",
    "REGION_NAMES",
    "REQUEST_BODY_REGIONS",
    "Anatomy",
    "AnatomyListing",
    "AnatomyTable",
    "BodyRegion",
    "list_anatomies",
    "list_anatomies_for_settings",
    "load_anatomy_table",
    "parse_region",
]

# Path-A size-condition vector, in upstream slot order (scripts/sample.py).
CONTROLLABLE_SLOTS = (
    "gallbladder", "liver", "stomach", "pancreas", "colon",
    "lung tumor", "pancreatic tumor", "hepatic tumor", "colon cancer primaries", "bone lesion",
)
CONTROLLABLE_TUMORS = frozenset(CONTROLLABLE_SLOTS[5:])
# Values upstream accepts in config_infer.json "body_region".
REQUEST_BODY_REGIONS = ("head", "chest", "thorax", "abdomen", "pelvis", "lower")
_REGION_ALIASES = {"thorax": "chest"}
_PLACEHOLDER_PREFIX = "dummy"


class BodyRegion(StrEnum):
    """Display grouping of MAISI classes (ours; upstream has none). ``general`` spans the body."""

    HEAD = "head"
    CHEST = "chest"
    ABDOMEN = "abdomen"
    PELVIS = "pelvis"
    LOWER = "lower"
    GENERAL = "general"
    OTHER = "other"


def _ids(*spans: tuple[int, int] | int) -> frozenset[int]:
    found: set[int] = set()
    for span in spans:
        found.update(range(span[0], span[1] + 1) if isinstance(span, tuple) else (span,))
    return frozenset(found)


_REGION_IDS = {
    BodyRegion.HEAD: _ids(22, 120, 126, (50, 56), 112, 113),
    BodyRegion.CHEST: _ids(11, 23, (28, 32), (38, 49), 57, (63, 92), (108, 111), 114, 115, 119, 122,
                           (123, 125), 132),
    BodyRegion.ABDOMEN: _ids(1, (3, 10), 12, 13, 14, 17, 19, (24, 27), (33, 37), 62, 104, 105, 116, 117),
    BodyRegion.PELVIS: _ids(15, (58, 61), (95, 103), 106, 107, 118, 127),
    BodyRegion.LOWER: _ids(93, 94),
    BodyRegion.GENERAL: _ids(121, 128, 200),
}


def _region_of_id(label_id: int) -> BodyRegion:
    for region, ids in _REGION_IDS.items():
        if label_id in ids:
            return region
    return BodyRegion.OTHER


REGION_NAMES = (*(region.value for region in BodyRegion), *_REGION_ALIASES)
"""Every name :func:`parse_region` accepts, in any letter case: the regions, then their aliases."""


def parse_region(value: str) -> BodyRegion:
    """Convert a region name (``thorax`` is an alias of chest); unknown names raise UsageError."""
    name = _REGION_ALIASES.get(value.strip().lower(), value.strip().lower())
    try:
        return BodyRegion(name)
    except ValueError as err:
        raise UsageError(f"unknown region {value!r}; choose one of {', '.join(REGION_NAMES)}."
                         f"{suggestion_text(value, list(REGION_NAMES))}") from err


class Anatomy(FrozenModel):
    """One class of the table."""

    id: int
    name: str
    region: BodyRegion
    is_placeholder: bool = False
    is_controllable: bool = False
    is_tumor: bool = False
    controllable_slot: int | None = Field(default=None, description="Index in the Path-A size vector.")


@dataclass(frozen=True)
class AnatomyTable:
    """Name -> anatomy lookup (exact, case-sensitive as upstream) plus where it came from."""

    entries: tuple[Anatomy, ...]
    source: str
    differences: tuple[str, ...] = ()

    def by_name(self) -> dict[str, Anatomy]:
        """Index by name."""
        return {entry.name: entry for entry in self.entries}

    def requestable_names(self) -> list[str]:
        """Names a request may use (placeholders excluded), in id order."""
        return [entry.name for entry in self.entries if not entry.is_placeholder]

    def region_of(self, name: str) -> BodyRegion | None:
        """Display region of a name, or None when unknown."""
        found = self.by_name().get(name)
        return found.region if found else None


def _anatomy(label_id: int, name: str) -> Anatomy:
    slot = CONTROLLABLE_SLOTS.index(name) if name in CONTROLLABLE_SLOTS else None
    return Anatomy(id=label_id, name=name, region=_region_of_id(label_id),
                   is_placeholder=name.startswith(_PLACEHOLDER_PREFIX), is_controllable=slot is not None,
                   is_tumor=name in CONTROLLABLE_TUMORS, controllable_slot=slot)


def _read_upstream_dictionary(path: Path) -> dict[str, int]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path} is not a readable JSON label dictionary: {err}") from err
    if not isinstance(loaded, dict) or not all(isinstance(v, int) for v in loaded.values()):
        raise InputError(f"{path} must map anatomy names to integer ids.")
    return {str(k): int(v) for k, v in loaded.items()}


def _differences(packaged: dict[str, int], upstream: dict[str, int]) -> list[str]:
    found = [f"{name!r} is only in the upstream table (id {upstream[name]})" for name in upstream
             if name not in packaged]
    found += [f"{name!r} is missing from the upstream table" for name in packaged if name not in upstream]
    found += [f"{name!r} has id {upstream[name]} upstream but {packaged[name]} in the packaged table"
              for name in packaged if name in upstream and upstream[name] != packaged[name]]
    return found


def load_anatomy_table(*, upstream_label_dict: Path | None = None) -> AnatomyTable:
    """The anatomy table: upstream's ``label_dict.json`` when given and present, else the packaged one.

    Raises:
        InputError: the upstream file exists but is not a name -> id JSON object.
    """
    dictionary = load_label_dictionary(LabelSpace.MAISI)
    packaged = {entry.name: entry.id for entry in dictionary.entries}
    if upstream_label_dict is None or not upstream_label_dict.is_file():
        entries = tuple(_anatomy(label_id, name) for name, label_id in packaged.items())
        return AnatomyTable(entries=entries, source=f"packaged MAISI table ({dictionary.source.path})")
    upstream = _read_upstream_dictionary(upstream_label_dict)
    entries = tuple(_anatomy(label_id, name) for name, label_id in sorted(upstream.items(), key=lambda kv: kv[1]))
    return AnatomyTable(entries=entries, source=str(upstream_label_dict),
                        differences=tuple(_differences(packaged, upstream)))


class AnatomyListing(FrozenModel):
    """What ``anatomy list`` prints: the matching classes and the rules a request must follow."""

    source: str
    region: BodyRegion | None
    name_filter: str | None
    is_controllable_only: bool
    anatomies: list[Anatomy]
    count: int
    request_body_regions: list[str] = Field(default_factory=lambda: list(REQUEST_BODY_REGIONS))
    controllable_rule: str = (
        "controllable_anatomy_size: up to 10 [name, size] pairs from the 10 controllable names, each name "
        "once, size in [0, 1] or -1 (no size constraint), at most one tumor entry."
    )


def list_anatomies(
    table: AnatomyTable, *, region: BodyRegion | None = None, is_controllable_only: bool = False,
    name_filter: str | None = None,
) -> AnatomyListing:
    """Filter the table: by display region, controllable classes only, case-insensitive substring."""
    needle = name_filter.lower() if name_filter else None
    chosen = [
        entry for entry in table.entries
        if not entry.is_placeholder
        and (region is None or entry.region == region)
        and (not is_controllable_only or entry.is_controllable)
        and (needle is None or needle in entry.name.lower())
    ]
    if is_controllable_only:
        chosen.sort(key=lambda entry: entry.controllable_slot or 0)
    return AnatomyListing(source=table.source, region=region, name_filter=name_filter,
                          is_controllable_only=is_controllable_only, anatomies=chosen, count=len(chosen))


def list_anatomies_for_settings(
    settings: Settings, *, region: str | None = None, is_controllable_only: bool = False, name_filter: str | None = None,
) -> AnatomyListing:
    """``anatomy list``: read the clone's table when one is found (else the packaged one), then filter.

    Raises:
        UsageError: ``region`` is not a known region (``thorax`` is accepted as chest).
    """
    from medskills.synthesis.nv_generate.upstream_root import locate_nv_generate_root

    chosen_region = parse_region(region) if region else None
    root = locate_nv_generate_root(settings).root
    table = load_anatomy_table(upstream_label_dict=root / "configs" / "label_dict.json" if root else None)
    return list_anatomies(table, region=chosen_region, is_controllable_only=is_controllable_only,
                          name_filter=name_filter)
