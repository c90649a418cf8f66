"""Evidence of a paired CT run: find this run's outputs, measure each pair once, parse the logs.

Only files with upstream's exact names (``sample_<timestamp>_image`` / ``_label``) written after the
run started count; anything else in the folder is listed as ignored. Each volume is read once; label
statistics take one ``np.bincount`` pass (``core.volumes.label_statistics``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.core.volumes import (
    LoadedVolume,
    as_label_map,
    compare_geometry,
    label_statistics,
    read_volume,
    summarize_intensity,
)
from medskills.synthesis.nv_generate.anatomy import CONTROLLABLE_SLOTS, AnatomyTable
from medskills.synthesis.paired_ct.record import (
    AnatomySizeCondition,
    ClassVolume,
    CTOutputSection,
    LabelMappingEntry,
    SampleEvidence,
)
from medskills.synthesis.nv_generate.ct_inference import InferenceSettings, MaskPath
from medskills.core.records import file_artifact

__all__ = [
    "HU_AIR_THRESHOLD",
    "HU_BONE_THRESHOLD",
    "MeasuredPair",
    "OutputScan",
    "compute_anatomy_size_condition",
    "describe_sample",
    "label_mapping",
    "parse_upstream_log",
    "scan_outputs",
    "summarize_outputs",
]

HU_AIR_THRESHOLD = -500.0
HU_BONE_THRESHOLD = 200.0
NONCONSTANT_MIN_RANGE = 1.0
MTIME_TOLERANCE_SECONDS = 1.0
_PEAK_PATTERN = re.compile(r"Peak GPU memory usage:\s*([0-9.]+)\s*GB")
_QUALITY_PATTERN = re.compile(r"quality check.*failed", re.IGNORECASE)


@dataclass(frozen=True)
class MeasuredPair:
    """The evidence of one pair plus the arrays read for it (kept for the card, so nothing is read twice)."""

    evidence: SampleEvidence
    image: LoadedVolume | None
    labels: npt.NDArray[np.int32] | None


@dataclass(frozen=True)
class OutputScan:
    """Pairs written by this run (image, label) and every other volume found in the folder."""

    pairs: list[tuple[Path, Path]]
    ignored: list[Path]


def scan_outputs(output_dir: Path, *, started_epoch: float, image_ext: str, label_ext: str) -> OutputScan:
    """Pair ``sample_<ts>_image<ext>`` with ``sample_<ts>_label<ext>`` written at or after ``started_epoch``."""
    image_pattern = re.compile(rf"^sample_(\d{{8}}_\d{{6}}_\d{{6}})_image{re.escape(image_ext)}$")
    volumes = sorted(p for p in output_dir.iterdir() if p.is_file() and (p.name.endswith(".nii") or p.name.endswith(".nii.gz")))
    is_fresh = {p: p.stat().st_mtime >= started_epoch - MTIME_TOLERANCE_SECONDS for p in volumes}
    pairs = []
    for path in volumes:
        match = image_pattern.match(path.name)
        if not match:
            continue
        label = output_dir / f"sample_{match.group(1)}_label{label_ext}"
        if is_fresh[path] and label in is_fresh and is_fresh[label]:
            pairs.append((path, label))
    used = {p for pair in pairs for p in pair}
    return OutputScan(pairs=pairs, ignored=[p for p in volumes if p not in used])


def label_mapping(settings: InferenceSettings, table: AnatomyTable) -> list[LabelMappingEntry]:
    """Ordinal -> MAISI id for the effective anatomy list."""
    ids = {entry.name: entry.id for entry in table.entries}
    return [LabelMappingEntry(output_label_id=ordinal, maisi_label_id=ids[name], anatomy=name)
            for ordinal, name in enumerate(settings.effective_anatomy, start=1)]


def describe_sample(image_path: Path, label_path: Path, mapping: list[LabelMappingEntry]) -> MeasuredPair:
    """Read the pair once each and measure it; unreadable files are recorded, never raised."""
    fields: dict[str, object] = {"image_path": image_path, "label_path": label_path,
                                 "image": file_artifact("image", image_path), "label": file_artifact("label", label_path)}
    image = label = None
    labels = None
    try:
        image = read_volume(image_path)
    except InputError as err:
        fields["image_error"] = str(err)
    try:
        label = read_volume(label_path)
        labels = as_label_map(label.array, where=str(label_path))
    except InputError as err:
        fields["label_error"] = str(err)
        label = labels = None
    if image is not None:
        summary = summarize_intensity(image.array)
        fields.update(image_dtype=str(image.array.dtype), image_geometry=image.geometry, intensity=summary,
                      has_hu_below_minus_500=summary.minimum is not None and summary.minimum < HU_AIR_THRESHOLD,
                      has_hu_above_200=summary.maximum is not None and summary.maximum > HU_BONE_THRESHOLD,
                      is_nonconstant=summary.value_range > NONCONSTANT_MIN_RANGE)
    if label is not None and labels is not None:
        statistics = label_statistics(labels, label.geometry.spacing_mm)
        by_ordinal = {entry.output_label_id: entry for entry in mapping}
        volumes = [ClassVolume(output_label_id=item.label_id,
                               maisi_label_id=by_ordinal[item.label_id].maisi_label_id if item.label_id in by_ordinal else None,
                               anatomy=by_ordinal[item.label_id].anatomy if item.label_id in by_ordinal else None,
                               voxel_count=item.voxel_count, volume_ml=item.volume_ml)
                   for item in statistics.labels]
        fields.update(label_dtype=str(label.array.dtype), label_geometry=label.geometry,
                      label_ids_present=statistics.label_ids_present,
                      label_foreground_voxels=statistics.foreground_voxels,
                      label_background_voxels=statistics.background_voxels, class_volumes=volumes)
    if image is not None and label is not None:
        fields["geometry_match"] = compare_geometry(image.geometry, label.geometry)
    evidence = SampleEvidence.model_validate(
        {"is_image_readable": image is not None, "is_label_readable": label is not None, **fields})
    return MeasuredPair(evidence=evidence, image=image, labels=labels)


def parse_upstream_log(text: str) -> tuple[list[str], float | None]:
    """Quality-check failure lines and the ``Peak GPU memory usage`` value (GB) from upstream stdout."""
    failures = [line.strip() for line in text.splitlines() if _QUALITY_PATTERN.search(line)]
    peaks = _PEAK_PATTERN.findall(text)
    return failures, float(peaks[-1]) if peaks else None


def compute_anatomy_size_condition(settings: InferenceSettings, database_path: Path) -> AnatomySizeCondition | None:
    """Path A's size vector the way upstream builds it; None when not Path A or the database is absent."""
    if settings.mask_path is not MaskPath.A or not database_path.is_file():
        return None
    try:
        database = json.loads(database_path.read_text(encoding="utf-8"))
        candidates = [[float(v) for v in item["organ_size"]] for item in database]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    requested = dict(settings.controllable_anatomy_size)
    provided = [requested.get(slot) for slot in CONTROLLABLE_SLOTS]

    def distance(candidate: list[float]) -> float:  # L1 over the provided slots only
        return sum(abs(p - v) for p, v in zip(provided, candidate, strict=False) if p is not None)

    if not candidates:
        return None
    chosen = list(min(candidates, key=distance))  # type: ignore[arg-type]  # min keeps the first of equals, like upstream's stable sort
    for name, size in requested.items():
        chosen[CONTROLLABLE_SLOTS.index(name)] = size
    return AnatomySizeCondition(slots=list(CONTROLLABLE_SLOTS), values=chosen, requested=requested,
                                database_path=database_path)


def summarize_outputs(
    *, output_dir: Path, samples: list[SampleEvidence], ignored: list[Path], mapping: list[LabelMappingEntry],
    settings: InferenceSettings, log_text: str, staged_inference: Path, staged_environment: Path,
    corrections: list[str], anatomy_size_condition: AnatomySizeCondition | None,
) -> CTOutputSection:
    """Aggregate per-sample evidence into the output section."""
    failures, peak = parse_upstream_log(log_text)
    union = sorted({i for sample in samples for i in sample.label_ids_present})
    expected = [entry.output_label_id for entry in mapping]
    missing = sorted({i for sample in samples for i in expected if i not in sample.label_ids_present})
    if not samples:
        missing = expected
    return CTOutputSection(
        directory=output_dir, samples=samples, num_samples=len(samples), ignored_files=ignored,
        is_all_pairs_readable=bool(samples) and all(s.is_pair_readable for s in samples),
        is_all_geometry_consistent=bool(samples) and all(s.geometry_match is not None and s.geometry_match.is_match
                                                         for s in samples),
        has_any_foreground=any(s.label_foreground_voxels > 0 for s in samples),
        is_all_images_nonconstant=bool(samples) and all(s.is_nonconstant for s in samples),
        is_all_images_hu_like=bool(samples) and all(s.has_hu_below_minus_500 and s.has_hu_above_200 for s in samples),
        union_label_ids_present=union, output_label_mapping=mapping, expected_output_label_ids=expected,
        expected_maisi_label_ids=[entry.maisi_label_id for entry in mapping],
        missing_expected_output_label_ids=missing, is_all_expected_labels_present=not missing,
        mask_path=settings.mask_path, anatomy_size_condition=anatomy_size_condition,
        quality_check_failures=failures, peak_gpu_memory_gb=peak, staged_inference_config=staged_inference,
        staged_environment_config=staged_environment, staging_corrections=corrections,
    )
