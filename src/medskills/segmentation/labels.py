"""NV-Segment-CTMR label facts and prompt resolution: ids or names in, validated and expanded ids out.

The bundle resolves names itself and quietly invents new ids for names it does not know, accepts the
untrained id 155 and expands the parent ids 2, 20 and 21 into their subclasses. We resolve every
prompt before the run, refuse what the network was never trained on, and record both the requested
and the expanded sets so later label-set checks compare like with like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import Field

from medskills.core.errors import InputError
from medskills.core.label_spaces import (
    BACKGROUND_ID,
    LabelSpace,
    SegmentationModality,
    load_label_dictionary,
    vista3d_subclasses,
)
from medskills.core.models import FrozenModel
from medskills.core.preflight import PreflightCollector, parse_choice, suggestion_text
from medskills.core.settings import Settings

__all__ = [
    "LabelListing",
    "LabelRow",
    "LabelSets",
    "PromptResolution",
    "ResolvedPrompt",
    "SegmentationModality",
    "SegmentationLabels",
    "load_label_sets",
    "list_labels",
    "list_labels_for_settings",
    "load_segmentation_labels",
    "parse_prompt_tokens",
    "resolve_prompts",
]

LABEL_SPACE = LabelSpace.VISTA3D


@dataclass(frozen=True)
class LabelSets:
    """Bundle facts: the everything set per modality, the subclass expansion, the prompt id limit."""

    everything: dict[SegmentationModality, tuple[int, ...]]
    subclass: dict[int, tuple[int, ...]]
    max_prompt_id_exclusive: int


@cache
def load_label_sets() -> LabelSets:
    """Load the packaged bundle facts (``medskills/data/segmentation/ctmr_label_sets.json``)."""
    text = resources.files("medskills").joinpath("data", "segmentation", "ctmr_label_sets.json").read_text("utf-8")
    document = json.loads(text)
    return LabelSets(
        everything={SegmentationModality(key): tuple(ids) for key, ids in document["everything"].items()},
        subclass=vista3d_subclasses(),
        max_prompt_id_exclusive=int(document["max_prompt_id_exclusive"]),
    )


@dataclass(frozen=True)
class SegmentationLabels:
    """The label dictionary in use: id -> name and id -> training modalities, and where it came from.

    ``is_label_dict_missing`` is True when a bundle was read but has no ``configs/label_dict.json``:
    names then come from its ``metadata.json`` and training modalities from our packaged dictionary.
    """

    names: dict[int, str]
    datasets: dict[int, tuple[str, ...]]
    source: str
    is_label_dict_missing: bool = False

    def name_of(self, label_id: int) -> str:
        """Dictionary name of ``label_id`` (``label_id_<n>`` when unknown, ``background`` for 0)."""
        if label_id == BACKGROUND_ID:
            return "background"
        return self.names.get(label_id, f"label_id_{label_id}")

    def id_for_name(self, name: str) -> int | None:
        """Case-insensitive exact lookup of a class name."""
        wanted = name.strip().casefold()
        for label_id, known in self.names.items():
            if known.casefold() == wanted:
                return label_id
        return None

    def is_trained(self, label_id: int, subclass: dict[int, tuple[int, ...]]) -> bool:
        """True when the class has training data, or is a subclass key (2, 20, 21) expanded before use."""
        return bool(self.datasets.get(label_id)) or label_id in subclass


def load_segmentation_labels(bundle_root: Path | None) -> SegmentationLabels:
    """The bundle's own names (``metadata.json`` ``channel_def``, what the bundle itself resolves) when present.

    The bundle run reads only ``metadata.json`` and ``label_mappings.json``; ``configs/label_dict.json``
    (names with training datasets) is optional. Without it, training datasets come from the packaged
    VISTA3D dictionary. Without a bundle, everything comes from the packaged dictionary. A bundle
    label file that exists but cannot be parsed raises, because silently using another dictionary
    would mislabel classes.

    Raises:
        InputError: a bundle label file is present but not valid JSON of the expected shape.
    """
    dictionary = load_label_dictionary(LABEL_SPACE)
    package_source = (f"medskills package data ({LABEL_SPACE.value}.json, {dictionary.source.repository}"
                      f"@{(dictionary.source.commit or '')[:7]})")
    names = {entry.id: entry.name for entry in dictionary.entries}
    datasets = {entry.id: entry.modalities for entry in dictionary.entries}
    if bundle_root is None:
        return SegmentationLabels(names=names, datasets=datasets, source=package_source)
    label_dict_path = bundle_root / "configs" / "label_dict.json"
    metadata_path = bundle_root / "configs" / "metadata.json"
    channel_names = _channel_def_names(metadata_path)
    if not label_dict_path.is_file():
        names = channel_names or names
        name_source = f"{metadata_path} channel_def" if channel_names else package_source
        return SegmentationLabels(names=names, datasets=datasets, is_label_dict_missing=True,
                                  source=f"names: {name_source}; training datasets: {package_source}")
    try:
        document = json.loads(label_dict_path.read_text(encoding="utf-8"))
        names = {int(item["index"]): str(name) for name, item in document.items()}
        datasets = {int(item["index"]): tuple(item.get("datasets", ())) for item in document.values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError(f"{label_dict_path} is not a label dictionary of the NV-Segment-CTMR shape "
                         f"({{name: {{index, datasets}}}}): {err}. Restore the file from the upstream clone, "
                         "or delete it to use metadata.json names.") from err
    names.update(channel_names)
    return SegmentationLabels(names=names, datasets=datasets, source=str(label_dict_path))


def _channel_def_names(metadata_path: Path) -> dict[int, str]:
    """Names from ``network_data_format.outputs.pred.channel_def`` (what the bundle itself uses)."""
    try:
        document = json.loads(metadata_path.read_text(encoding="utf-8"))
        channel_def = document["network_data_format"]["outputs"]["pred"]["channel_def"]
        return {int(key): str(value) for key, value in channel_def.items() if int(key) != BACKGROUND_ID}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


class ResolvedPrompt(FrozenModel):
    """One prompt token as typed, the class id it resolved to, and the ids the bundle will segment for it."""

    token: str
    label_id: int
    name: str
    expands_to: list[int]


class PromptResolution(FrozenModel):
    """All prompts of a run. In everything mode ``requested`` is empty and the modality set applies."""

    is_everything: bool
    requested: list[ResolvedPrompt] = Field(default_factory=list)
    requested_ids: list[int] = Field(description="Ids as requested, before subclass expansion.")
    expanded_ids: list[int] = Field(description="Ids the bundle segments: requested ids with 2/20/21 expanded.")
    allowed_output_ids: list[int] = Field(description="Ids the output may contain (expanded prompts or the "
                                                      "modality's everything set).")
    name_to_id: dict[str, int] = Field(default_factory=dict)

    @property
    def prompt_count(self) -> int:
        """Number of classes the network is prompted with (the B of the stitching buffer)."""
        return len(self.expanded_ids)


def parse_prompt_tokens(text: str | None) -> list[str]:
    """Split ``"3,14"`` or ``"liver, spleen"`` into tokens; blank tokens are dropped."""
    if text is None:
        return []
    return [token.strip() for token in text.split(",") if token.strip()]


def resolve_prompts(
    text: str | None, *, modality: SegmentationModality | None, labels: SegmentationLabels, label_sets: LabelSets,
    collector: PreflightCollector,
) -> PromptResolution:
    """Resolve prompt tokens to trained ids, report every bad token, expand subclass keys.

    No tokens means everything mode: the modality's set is both the prompt and the allowed output.
    """
    tokens = parse_prompt_tokens(text)
    if not tokens:
        everything = list(label_sets.everything[modality]) if modality else []
        return PromptResolution(is_everything=True, requested_ids=[], expanded_ids=everything,
                                allowed_output_ids=everything)
    resolved: list[ResolvedPrompt] = []
    for token in tokens:
        label_id = _resolve_token(token, labels=labels, label_sets=label_sets, collector=collector)
        if label_id is None:
            continue
        if label_id in {prompt.label_id for prompt in resolved}:
            collector.warning("prompt_duplicate", f"prompt {token!r} repeats class {label_id}; it is used once.",
                              field="--label-prompts")
            continue
        expands_to = list(label_sets.subclass.get(label_id, (label_id,)))
        resolved.append(ResolvedPrompt(token=token, label_id=label_id, name=labels.name_of(label_id),
                                       expands_to=expands_to))
    expanded = sorted({label_id for prompt in resolved for label_id in prompt.expands_to})
    if modality is not None:
        _warn_untrained_for_modality(expanded, modality=modality, labels=labels, collector=collector)
    return PromptResolution(
        is_everything=False,
        requested=resolved,
        requested_ids=[prompt.label_id for prompt in resolved],
        expanded_ids=expanded,
        allowed_output_ids=expanded,
        name_to_id={prompt.token: prompt.label_id for prompt in resolved if not prompt.token.isdigit()},
    )


def _resolve_token(
    token: str, *, labels: SegmentationLabels, label_sets: LabelSets, collector: PreflightCollector
) -> int | None:
    """One token to a trained, promptable id, or ``None`` after recording why not."""
    field = "--label-prompts"
    if token.lstrip("-").isdecimal() and token.lstrip("-").isascii():  # "²" is a digit to str.isdigit
        label_id = int(token)
    else:
        found = labels.id_for_name(token)
        if found is None:
            hint = suggestion_text(token, labels.names.values())
            collector.error("prompt_unknown_name", f"label name {token!r} is not in the label dictionary.{hint}",
                            field=field, fix="use a class name or id from `medskills segment labels`")
            return None
        label_id = found
    if label_id == BACKGROUND_ID:
        collector.error("prompt_background", "label id 0 is background and cannot be prompted.", field=field,
                        fix="remove 0 from --label-prompts")
        return None
    if label_id < 0 or label_id >= label_sets.max_prompt_id_exclusive or label_id not in labels.names:
        collector.error("prompt_unknown_id", f"label id {label_id} is not a class of the label dictionary "
                        f"(ids 1..{max(labels.names)}).", field=field,
                        fix="use an id from `medskills segment labels`")
        return None
    if not labels.is_trained(label_id, label_sets.subclass):
        collector.error("prompt_untrained", f"label id {label_id} ({labels.name_of(label_id)!r}) has no training data "
                        "(deprecated); the network would answer with untrained embeddings.", field=field,
                        fix="choose a trained class; `medskills segment labels` lists them")
        return None
    return label_id


def _warn_untrained_for_modality(
    expanded: list[int], *, modality: SegmentationModality, labels: SegmentationLabels, collector: PreflightCollector
) -> None:
    tag = modality.training_modality
    untrained = [label_id for label_id in expanded if tag not in labels.datasets.get(label_id, ())]
    if untrained:
        shown = ", ".join(f"{i} {labels.name_of(i)!r}" for i in untrained[:10])
        collector.warning("prompt_not_trained_for_modality",
                          f"{len(untrained)} prompted class(es) have no {tag} training data and may segment poorly "
                          f"on {modality.value}: {shown}.", field="--label-prompts")


class LabelRow(FrozenModel):
    """One class for ``medskills segment labels``."""

    label_id: int
    name: str
    trained_for: list[str]
    is_promptable: bool
    in_everything_sets: list[SegmentationModality]


class LabelListing(FrozenModel):
    """The label dictionary in use, filtered, with where it came from."""

    source: str
    labels: list[LabelRow]


def list_labels(labels: SegmentationLabels, *, modality: SegmentationModality | None = None,
                name_filter: str | None = None) -> LabelListing:
    """Classes of the dictionary, optionally only one modality's everything set or names containing a filter."""
    label_sets = load_label_sets()
    wanted = set(label_sets.everything[modality]) if modality else None
    rows = [
        LabelRow(label_id=label_id, name=name, trained_for=list(labels.datasets.get(label_id, ())),
                 is_promptable=labels.is_trained(label_id, label_sets.subclass),
                 in_everything_sets=[m for m, ids in label_sets.everything.items() if label_id in ids])
        for label_id, name in sorted(labels.names.items())
        if (wanted is None or label_id in wanted) and (not name_filter or name_filter.casefold() in name.casefold())
    ]
    return LabelListing(source=labels.source, labels=rows)


def list_labels_for_settings(settings: Settings, *, modality: str | None = None,
                             name_filter: str | None = None) -> LabelListing:
    """:func:`list_labels` over the dictionary preflight would use (the bundle's when it is installed)."""
    from medskills.segmentation.bundle import missing_layout_files, resolve_bundle_root

    chosen = None if modality is None else parse_choice(SegmentationModality, modality, where="--modality")
    root = resolve_bundle_root(settings)
    labels = load_segmentation_labels(None if missing_layout_files(root) else root)
    return list_labels(labels, modality=chosen, name_filter=name_filter)
