"""Label dictionaries of the label spaces medskills reads and writes (MAISI, VISTA3D, TotalSegmentator)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources

from medskills.core.errors import InputError
from medskills.core.preflight import suggestion_text

__all__ = [
    "vista3d_subclasses",
    "BACKGROUND_ID",
    "LabelDictionary",
    "LabelEntry",
    "LabelSpace",
    "LabelSource",
    "load_label_dictionary",
]

BACKGROUND_ID = 0
_PACKAGE = "medskills"


class LabelSpace(StrEnum):
    """A closed set of label dictionaries; each has one JSON file under ``medskills/data/labels``."""

    MAISI = "maisi"
    VISTA3D = "vista3d"
    TOTALSEGMENTATOR = "totalsegmentator"
    TOTALSEGMENTATOR_MR = "totalsegmentator_mr"


@dataclass(frozen=True)
class LabelEntry:
    """One class of a label space.

    ``is_placeholder`` marks MAISI's unused ``dummyN`` ids; ``modalities`` lists the
    modalities (``CT``, ``MRI``) VISTA3D was trained on for the class (empty elsewhere).
    """

    id: int
    name: str
    is_placeholder: bool = False
    is_deprecated: bool = False
    modalities: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSource:
    """Where the ids and names of a label space were taken from."""

    repository: str
    path: str
    commit: str | None


@dataclass(frozen=True)
class LabelDictionary:
    """Id <-> name lookup for one label space. Name lookup is case-insensitive; 0 is background."""

    space: LabelSpace
    source: LabelSource
    entries: tuple[LabelEntry, ...]
    _by_id: dict[int, LabelEntry] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, LabelEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {entry.id: entry for entry in self.entries})
        object.__setattr__(self, "_by_name", {entry.name.casefold(): entry for entry in self.entries})

    def __contains__(self, key: object) -> bool:
        if isinstance(key, bool):
            return False
        if isinstance(key, int):
            return key in self._by_id
        if isinstance(key, str):
            return key.casefold() in self._by_name
        return False

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def ids(self) -> tuple[int, ...]:
        """All class ids in ascending order (background excluded)."""
        return tuple(entry.id for entry in self.entries)

    @property
    def max_id(self) -> int:
        return max(self._by_id)

    def entry(self, key: int | str) -> LabelEntry:
        """Return the entry for an id or a (case-insensitive) name.

        Raises:
            InputError: the id or name is not in this space; the message suggests close names.
        """
        if isinstance(key, int) and not isinstance(key, bool):
            if key in self._by_id:
                return self._by_id[key]
            raise InputError(
                f"Label id {key} is not in the {self.space} label space (ids {self.ids[0]}..{self.max_id}). "
                f"Run `medskills anatomy list` or read medskills/data/labels/{self.space}.json for valid ids."
            )
        found = self._by_name.get(str(key).casefold())
        if found is not None:
            return found
        hint = suggestion_text(str(key), [entry.name for entry in self.entries])
        raise InputError(f"Label name {key!r} is not in the {self.space} label space.{hint}")

    def name_of(self, label_id: int) -> str:
        """Name of a class id (``'background'`` for 0)."""
        return "background" if label_id == BACKGROUND_ID else self.entry(label_id).name

    def id_of(self, name: str) -> int:
        """Id of a class name, case-insensitive."""
        return self.entry(name).id

    def names(self, *, include_placeholders: bool = False, include_deprecated: bool = True) -> tuple[str, ...]:
        """Class names in id order, optionally without placeholders or deprecated classes."""
        return tuple(
            entry.name
            for entry in self.entries
            if (include_placeholders or not entry.is_placeholder) and (include_deprecated or not entry.is_deprecated)
        )


@cache
def load_label_dictionary(space: LabelSpace | str) -> LabelDictionary:
    """Load the packaged label dictionary of ``space``.

    Raises:
        InputError: ``space`` is not one of :class:`LabelSpace`.
    """
    try:
        space = LabelSpace(space)
    except ValueError as err:
        choices = ", ".join(member.value for member in LabelSpace)
        raise InputError(f"Unknown label space {space!r}; choose one of: {choices}.") from err
    text = resources.files(_PACKAGE).joinpath("data", "labels", f"{space.value}.json").read_text(encoding="utf-8")
    document = json.loads(text)
    entries = tuple(
        LabelEntry(
            id=int(item["id"]),
            name=str(item["name"]),
            is_placeholder=bool(item.get("is_placeholder", False)),
            is_deprecated=bool(item.get("is_deprecated", False)),
            modalities=tuple(item.get("modalities", ())),
        )
        for item in document["labels"]
    )
    return LabelDictionary(space=space, source=LabelSource(**document["source"]), entries=entries)


@cache
def vista3d_subclasses() -> dict[int, tuple[int, ...]]:
    """VISTA3D's parent prompts (2 kidney, 20 lung, 21 bone) and the classes the bundle segments for each:
    a bundle fact (packaged with the segmentation facts) that the wrapper and the verifier both need."""
    text = resources.files("medskills").joinpath("data", "segmentation", "ctmr_label_sets.json").read_text("utf-8")
    return {int(key): tuple(ids) for key, ids in json.loads(text)["subclass"].items()}
