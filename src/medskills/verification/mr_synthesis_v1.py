"""``mr_synthesis_quality_v1``: grade a brain-MRI synthesis run (NV-Generate-CTMR ``rflow-mr-brain``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medskills.core.mr_brain_modality import MRBrainModality
from medskills.core.progress import OnProgress, report_progress
from medskills.core.skills import SkillId
from medskills.core.volumes import IntensitySummary, LoadedVolume, read_volume, summarize_intensity
from medskills.verification.honesty import claims_match_check, recorded_hash_checks
from medskills.verification.mr_brain_volume import BRAIN_VOLUME_MODALITIES, brain_volume_checks
from medskills.verification.run_inputs import MRSynthesisRun, load_run, resolve_artifact
from medskills.verification.verdict import (
    Tier, Verdict, VerdictCheck, VerifierId, build_verdict, check, file_read, target_checks, tier,
)

__all__ = ["grade_mr_synthesis"]

MIN_VALUE_RANGE = 1.0
SPACING_TOLERANCE_MM = 1e-4


@dataclass(frozen=True)
class _Image:
    index: int
    volume: LoadedVolume
    intensity: IntensitySummary
    requested_shape: tuple[int, int, int] | None
    requested_spacing_mm: tuple[float, float, float] | None

    @property
    def is_shape_match(self) -> bool:
        return self.requested_shape is not None and tuple(self.volume.geometry.shape) == self.requested_shape

    @property
    def is_spacing_match(self) -> bool:
        requested = self.requested_spacing_mm
        return requested is not None and all(
            abs(a - b) <= SPACING_TOLERANCE_MM for a, b in zip(self.volume.geometry.spacing_mm, requested, strict=True))


def grade_mr_synthesis(run_dir: Path, *, on_progress: OnProgress | None = None) -> Verdict:
    """Re-read every generated MR volume and grade it against the request.

    ``on_progress`` hears of each volume read and of each deepbrain brain extraction.

    Raises:
        InputError: ``result.json`` or an image it names is missing or unreadable (exit 2).
    """
    run, record_path = load_run(run_dir, MRSynthesisRun)
    files = [file_read("record", record_path)]
    images = []
    modality = (run.request.modality or "").casefold()
    count = len(run.output.samples)
    total = 2 * count if modality in BRAIN_VOLUME_MODALITIES else count
    for index, sample in enumerate(run.output.samples):
        path = resolve_artifact(sample.path, run_dir)
        files.append(file_read(f"sample{index}_image", path))
        volume = read_volume(path)
        images.append(_Image(index=index, volume=volume, intensity=summarize_intensity(volume.array),
                             requested_shape=run.request.dim or sample.requested_shape,
                             requested_spacing_mm=run.request.spacing_mm or sample.requested_spacing_mm))
        report_progress(on_progress, index + 1, total)
    recomputed = _recomputed_flags(images)
    tiers = [
        _target_tier(run),
        tier("artifact_inventory", [check("samples_declared", passed=bool(images), measured=len(images), threshold=1,
                                          reason="the record must list at least one generated image"),
                                    *recorded_hash_checks(run.artifacts, run_dir, files)]),
        tier("image_values", [c for image in images for c in _value_checks(image)]),
        tier("requested_geometry", [c for image in images for c in _geometry_checks(image)]),
        tier("brain_volume_plausibility", brain_volume_checks(
            [(image.index, image.volume) for image in images], modality,
            on_progress=lambda done, _: report_progress(on_progress, count + done, total))),
        tier("honesty", [claims_match_check(run.output.model_dump(include=set(recomputed)), recomputed)]),
    ]
    return build_verdict(VerifierId.MR_SYNTHESIS, run_dir=Path(run_dir), target_skill=run.skill, tiers=tiers,
                         files_read=files)


def _target_tier(run: MRSynthesisRun) -> Tier:
    modality = (run.request.modality or "").casefold()
    return tier("target", [
        *target_checks(run.skill, run.status, accepted=SkillId.SYNTH_MR_BRAIN, what="an MR synthesis skill"),
        check("modality_supported", passed=modality in MRBrainModality.__members__.values(), measured=run.request.modality,
              threshold=", ".join(MRBrainModality),
              reason="the modality must be one NV-Generate-MR-Brain documents (configs/modality_mapping.json)"),
    ])


def _value_checks(image: _Image) -> list[VerdictCheck]:
    summary, prefix = image.intensity, f"sample{image.index}"
    return [
        check(f"{prefix}_values_finite", passed=summary.is_finite and summary.voxel_count > 0,
              measured=summary.nonfinite_voxels, threshold=0, reason="no NaN or infinite voxels"),
        check(f"{prefix}_values_nonconstant", passed=summary.value_range > MIN_VALUE_RANGE,
              measured=round(summary.value_range, 4), threshold=MIN_VALUE_RANGE, reason="max - min over finite voxels"),
        check(f"{prefix}_values_nonnegative", passed=summary.minimum is not None and summary.minimum >= 0,
              measured=summary.minimum, threshold=0.0, reason="MR intensities are clipped at 0 upstream"),
    ]


def _geometry_checks(image: _Image) -> list[VerdictCheck]:
    geometry, prefix = image.volume.geometry, f"sample{image.index}"
    return [
        check(f"{prefix}_shape_matches_request", passed=image.is_shape_match, measured=list(geometry.shape),
              threshold=list(image.requested_shape) if image.requested_shape else None,
              reason="the generated grid must have the requested dimensions"),
        check(f"{prefix}_spacing_matches_request", passed=image.is_spacing_match,
              measured=str([round(v, 6) for v in geometry.spacing_mm]), threshold=str(image.requested_spacing_mm),
              reason=f"spacing in mm, tolerance {SPACING_TOLERANCE_MM:g}"),
    ]


def _recomputed_flags(images: list[_Image]) -> dict[str, bool]:
    """The aggregate booleans the MR wrapper reports, recomputed from the files."""
    has_any = bool(images)
    return {
        "all_images_readable": has_any,
        "all_shapes_match_requested": has_any and all(i.is_shape_match for i in images),
        "all_spacing_match_requested": has_any and all(i.is_spacing_match for i in images),
        "all_images_finite": has_any and all(i.intensity.is_finite for i in images),
        "all_images_nonconstant": has_any and all(i.intensity.value_range > MIN_VALUE_RANGE for i in images),
        "all_images_nonnegative": has_any and all((i.intensity.minimum or 0) >= 0 for i in images),
    }
