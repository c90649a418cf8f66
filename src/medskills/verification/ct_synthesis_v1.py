"""``ct_synthesis_quality_v1``: grade a paired CT image + label run (NV-Generate-CTMR ``rflow-ct``).

Six tiers (inventory, geometry, HU plausibility, label-set sanity, declared anatomy coverage,
anatomy HU plausibility) plus an honesty tier comparing the wrapper's claims with the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.label_spaces import LabelDictionary, LabelSpace, load_label_dictionary
from medskills.core.models import Status
from medskills.core.progress import OnProgress, report_progress
from medskills.core.skills import SkillId
from medskills.core.volumes import (
    IntensitySummary, LoadedVolume, as_label_map, compare_geometry, read_volume, summarize_intensity,
)
from medskills.verification.honesty import claims_match_check, recorded_hash_checks
from medskills.verification.hu_statistics import group_medians_hu, load_hu_ranges
from medskills.verification.run_inputs import CTSynthesisRun, LabelMappingItem, load_run, resolve_artifact
from medskills.verification.verdict import (
    Tier, Verdict, VerdictCheck, VerifierId, build_verdict, check, file_read, skipped, target_checks, tier,
)

__all__ = ["CT_AIR_BELOW_HU", "CT_BONE_ABOVE_HU", "ct_target_tier", "grade_ct_synthesis"]

CT_AIR_BELOW_HU = -500.0
CT_BONE_ABOVE_HU = 200.0
MIN_VALUE_RANGE = 1.0
MAX_MAISI_OUTPUT_ID = 132


@dataclass(frozen=True)
class _Sample:
    """One image/label pair read from disk; ``maisi_labels`` holds MAISI ids (output ids translated)."""

    index: int
    image: LoadedVolume
    label: LoadedVolume
    labels: npt.NDArray[np.int32]
    maisi_labels: npt.NDArray[np.integer]
    present_ids: tuple[int, ...]
    intensity: IntensitySummary


def grade_ct_synthesis(run_dir: Path, *, on_progress: OnProgress | None = None) -> Verdict:
    """Re-read every image and label of the run and grade them; ``on_progress`` hears of each pair read.

    Raises:
        InputError: ``result.json`` or a file it names is missing or unreadable (exit 2).
    """
    run, record_path = load_run(run_dir, CTSynthesisRun)
    files = [file_read("record", record_path)]
    mapping = run.output.output_label_mapping
    samples = []
    for index, entry in enumerate(run.output.samples):
        image_path = resolve_artifact(entry.image_path, run_dir)
        label_path = resolve_artifact(entry.label_path, run_dir)
        files += [file_read(f"sample{index}_image", image_path), file_read(f"sample{index}_label", label_path)]
        samples.append(_read_sample(index, image_path, label_path, mapping))
        report_progress(on_progress, index + 1, len(run.output.samples))
    recomputed = _recomputed_flags(samples, mapping)
    tiers = [
        ct_target_tier(run),
        tier("artifact_inventory", [check("samples_declared", passed=bool(samples), measured=len(samples),
                                          threshold=1, reason="the record must list at least one image/label pair"),
                                    *recorded_hash_checks(run.artifacts, run_dir, files)]),
        tier("geometry_consistency", [_geometry_check(sample) for sample in samples]),
        tier("image_hu_plausibility", [_hu_check(sample) for sample in samples]),
        _label_set_tier(samples, mapping),
        _coverage_tier(samples, mapping),
        tier("anatomy_hu_plausibility", _anatomy_hu_checks(samples)),
        tier("honesty", [claims_match_check(run.output.model_dump(include=set(recomputed)), recomputed)]),
    ]
    return build_verdict(VerifierId.CT_SYNTHESIS, run_dir=Path(run_dir), target_skill=run.skill, tiers=tiers,
                         files_read=files)


def _read_sample(index: int, image_path: Path, label_path: Path, mapping: list[LabelMappingItem] | None) -> _Sample:
    image, label = read_volume(image_path), read_volume(label_path)
    labels = as_label_map(label.array, where=str(label_path))
    counts = np.bincount(labels.ravel())
    present = tuple(int(i) for i in np.flatnonzero(counts) if i != 0)
    maisi = labels
    if mapping:
        lookup = np.zeros(counts.size, dtype=np.int32)
        for item in mapping:
            output_id, maisi_id = item.output_id, item.maisi_id
            if output_id is not None and maisi_id is not None and 0 < output_id < counts.size:
                lookup[output_id] = maisi_id
        maisi = np.take(lookup, labels)
    return _Sample(index=index, image=image, label=label, labels=labels, maisi_labels=maisi, present_ids=present,
                   intensity=summarize_intensity(image.array))


def ct_target_tier(run: CTSynthesisRun) -> Tier:
    """The run is a CT synthesis run (``synth-ct`` or a legacy name) that passed its own gates."""
    return tier("target", target_checks(run.skill, run.status, accepted=SkillId.SYNTH_CT, what="a CT synthesis skill"))


def _geometry_check(sample: _Sample) -> VerdictCheck:
    comparison = compare_geometry(sample.image.geometry, sample.label.geometry, spacing_tolerance_mm=1e-6)
    return check(f"sample{sample.index}_image_label_grid_match", passed=comparison.is_match,
                 measured=comparison.affine_max_abs_diff, threshold=1e-4,
                 reason=f"image {sample.image.geometry.shape} vs label {sample.label.geometry.shape}: shape "
                 f"{comparison.is_shape_match}, spacing {comparison.is_spacing_match}, "
                 f"affine {comparison.is_affine_match}")


def _hu_check(sample: _Sample) -> VerdictCheck:
    summary = sample.intensity
    low, high = summary.minimum, summary.maximum
    is_plausible = (summary.value_range > MIN_VALUE_RANGE and low is not None and high is not None
                    and low < CT_AIR_BELOW_HU and high > CT_BONE_ABOVE_HU)
    return check(f"sample{sample.index}_hu_like", passed=is_plausible, measured=f"{low} to {high}",
                 threshold=f"range > {MIN_VALUE_RANGE:g}, min < {CT_AIR_BELOW_HU:g}, max > {CT_BONE_ABOVE_HU:g} HU",
                 reason="a CT holds air (< -500 HU) and bone (> 200 HU) and is not constant")


def _allowed_ids(mapping: list[LabelMappingItem] | None) -> set[int]:
    if mapping:
        return {item.output_id for item in mapping if item.output_id is not None}
    maisi = load_label_dictionary(LabelSpace.MAISI)
    return {e.id for e in maisi.entries if not e.is_placeholder and e.id <= MAX_MAISI_OUTPUT_ID}


def _label_set_tier(samples: list[_Sample], mapping: list[LabelMappingItem] | None) -> Tier:
    allowed = _allowed_ids(mapping)
    space = "declared output ids" if mapping else f"MAISI ids 1-{MAX_MAISI_OUTPUT_ID} (no placeholders)"
    checks = []
    for sample in samples:
        unknown = sorted(set(sample.present_ids) - allowed)
        checks.append(check(f"sample{sample.index}_ids_known", passed=not unknown,
                            measured=unknown or list(sample.present_ids),
                            reason=f"every label id must be one of the {space}"))
        checks.append(check(f"sample{sample.index}_has_foreground", passed=bool(sample.present_ids),
                            measured=len(sample.present_ids), threshold=1, reason="a label map with no structure"))
    return tier("label_set_sanity", checks)


def _coverage_tier(samples: list[_Sample], mapping: list[LabelMappingItem] | None) -> Tier:
    if mapping is None:
        return tier("declared_anatomy_coverage",
                    [skipped("mapping_declared", reason="labels are MAISI ids; no output mapping declared")])
    maisi = load_label_dictionary(LabelSpace.MAISI)
    malformed = [str(item.anatomy) for item in mapping if not _is_well_formed(item, maisi)]
    union: set[int] = set().union(*(sample.present_ids for sample in samples)) if samples else set()
    expected = _allowed_ids(mapping)
    missing = sorted(expected - union)
    return tier("declared_anatomy_coverage", [
        check("mapping_well_formed", passed=bool(mapping) and not malformed,
              measured=", ".join(malformed) or len(mapping),
              reason="each item needs an anatomy name matching its MAISI id and an output id > 0"),
        check("declared_ids_present", passed=not missing, measured=missing, threshold=sorted(expected),
              reason="every declared output id must appear in at least one label map"),
    ])


def _is_well_formed(item: LabelMappingItem, maisi: LabelDictionary) -> bool:
    """A str anatomy, an output id > 0 and a MAISI id whose dictionary name is that anatomy."""
    output_id, maisi_id = item.output_id, item.maisi_id
    return (isinstance(item.anatomy, str) and output_id is not None and output_id > 0 and maisi_id is not None
            and maisi_id in maisi and maisi.name_of(maisi_id).casefold() == item.anatomy.casefold())


def _anatomy_hu_checks(samples: list[_Sample]) -> list[VerdictCheck]:
    checks = []
    for sample in samples:
        medians = group_medians_hu(sample.image.array, sample.maisi_labels)
        for item in load_hu_ranges():
            if item.group not in medians:
                continue
            median, voxels = medians[item.group]
            checks.append(check(
                f"sample{sample.index}_{item.group}_median_hu", passed=item.low_hu <= median <= item.high_hu,
                measured=round(median, 2), threshold=f"{item.low_hu:g} to {item.high_hu:g} HU",
                reason=f"median over {voxels} voxels; range from NV-Generate-CTMR "
                "configs/image_median_statistics_ct.json"))
    return checks or [skipped("no_group_present", reason="no organ group with HU statistics in the labels")]


def _recomputed_flags(samples: list[_Sample], mapping: list[LabelMappingItem] | None) -> dict[str, bool]:
    """The aggregate booleans the CT wrapper reports, recomputed from the files."""
    union = set().union(*(s.present_ids for s in samples)) if samples else set()
    expected = _allowed_ids(mapping) if mapping else set()
    return {
        "all_pairs_readable": bool(samples),
        "all_geometry_consistent": bool(samples) and all(_geometry_check(s).status is Status.PASSED for s in samples),
        "any_foreground_present": bool(union),
        "all_images_nonconstant": bool(samples) and all(s.intensity.value_range > MIN_VALUE_RANGE for s in samples),
        "all_images_hu_like": bool(samples) and all(_hu_check(s).status is Status.PASSED for s in samples),
        "all_effective_anatomy_labels_present": expected <= union,
    }
