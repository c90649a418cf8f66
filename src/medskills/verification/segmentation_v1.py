"""``ct_segmentation_quality_v1``: grade a segmentation run directory, or a mask produced elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from medskills.core.errors import UsageError
from medskills.core.label_spaces import (
    LabelSpace,
    SegmentationModality,
    load_anatomy_table,
    load_label_dictionary,
    vista3d_subclasses,
)
from medskills.core.models import Artifact, FrozenModel
from medskills.core.progress import OnProgress, report_progress
from medskills.core.skills import SkillId
from medskills.core.volumes import LoadedVolume, as_label_map, compare_geometry, read_volume
from medskills.verification.honesty import recorded_hash_checks
from medskills.verification.organ_checks import measure_organs, organ_checks
from medskills.verification.run_inputs import SegmentationRun, load_run, resolve_artifact
from medskills.verification.segmentation_scores import score_segmentation
from medskills.verification.verdict import (
    SegmentationScores, Tier, Verdict, VerdictCheck, VerifierId, build_verdict, check, file_read, skipped,
    target_checks, tier,
)

__all__ = ["SegmentationModality", "SegmentationVerifyRequest", "grade_segmentation"]


class SegmentationVerifyRequest(FrozenModel):
    """What to grade: a run directory, or a prediction mask with an optional image, plus a reference."""

    run_dir: Path | None = None
    prediction: Path | None = None
    image: Path | None = None
    prediction_labels: LabelSpace | None = None
    modality: SegmentationModality | None = None
    ground_truth: Path | None = None
    reference_labels: LabelSpace | None = None
    dice_floors: dict[str, float] = Field(default_factory=dict, description="Minimum Dice per structure name.")

    @model_validator(mode="after")
    def _one_source(self) -> SegmentationVerifyRequest:
        if (self.run_dir is None) == (self.prediction is None):
            raise ValueError("pass either a run directory or --prediction MASK (exactly one)")
        return self


class _Inputs(FrozenModel):
    """Where the files are and what the run declared, from the record or the command line."""

    skill: str | None
    run_status: str | None
    prediction: Path
    image: Path | None
    ground_truth: Path | None
    prediction_space: LabelSpace
    reference_space: LabelSpace
    modality: SegmentationModality
    label_prompts: list[int] | None
    claimed_label_ids: list[int] | None
    files_read: list[Artifact]
    hash_checks: list[VerdictCheck]


def grade_segmentation(request: SegmentationVerifyRequest, *, on_progress: OnProgress | None = None) -> Verdict:
    """Re-read the mask (and image, reference) from disk and grade it; never reuses the wrapper's numbers.

    ``on_progress`` hears of each volume read and of the grading after them.

    Raises:
        InputError: the record or a file it names is missing or unreadable (exit 2).
        UsageError: the request names an unknown modality or label space.
    """
    inputs = _collect_inputs(request)
    total = 2 + (inputs.image is not None) + (inputs.ground_truth is not None)
    prediction_volume = read_volume(inputs.prediction)
    report_progress(on_progress, 1, total)
    labels = as_label_map(prediction_volume.array, where=str(inputs.prediction))
    image = read_volume(inputs.image) if inputs.image else None
    reference = read_volume(inputs.ground_truth) if inputs.ground_truth else None
    report_progress(on_progress, total - 1, total)
    spacing = prediction_volume.geometry.spacing_mm
    tiers = [
        _target_tier(inputs),
        _geometry_tier(prediction_volume, image, reference, inputs.hash_checks),
        _label_set_tier(labels, inputs),
        *_anatomy_tiers(labels, inputs.prediction_space, spacing),
    ]
    scores = None
    if reference is not None and reference.geometry.shape == prediction_volume.geometry.shape:
        scores = score_segmentation(labels, reference.array, prediction_space=inputs.prediction_space,
                                    reference_space=inputs.reference_space, spacing_mm=spacing,
                                    dice_floors=request.dice_floors)
        tiers.append(_ground_truth_tier(scores, request.dice_floors))
    elif reference is not None:
        tiers.append(tier("ground_truth", [check(
            "reference_grid_matches", passed=False, measured=list(reference.geometry.shape),
            threshold=list(prediction_volume.geometry.shape),
            reason="the reference is on another voxel grid; resample it onto the prediction's grid")]))
    report_progress(on_progress, total, total)
    return build_verdict(VerifierId.SEGMENTATION, run_dir=request.run_dir, target_skill=inputs.skill,
                         tiers=tiers, files_read=inputs.files_read, scores=scores)


def _collect_inputs(request: SegmentationVerifyRequest) -> _Inputs:
    if request.run_dir is None:
        assert request.prediction is not None
        files = [file_read("prediction", request.prediction)] if request.prediction.is_file() else []
        space = request.prediction_labels or LabelSpace.VISTA3D
        return _Inputs(
            skill=None, run_status=None, prediction=request.prediction, image=request.image,
            ground_truth=request.ground_truth, prediction_space=space,
            reference_space=request.reference_labels or space,
            modality=request.modality or _default_modality(space), label_prompts=None,
            claimed_label_ids=None, files_read=files + _optional_reads(request.image, request.ground_truth),
            hash_checks=[])
    run, record_path = load_run(request.run_dir, SegmentationRun)
    prediction = resolve_artifact(run.mask_path, request.run_dir)
    image = request.image or _run_image(run, request.run_dir)
    truth = request.ground_truth or (
        resolve_artifact(run.request.ground_truth, request.run_dir) if run.request.ground_truth else None)
    space = request.prediction_labels or _space(run.output.label_space)
    modality = request.modality or _modality(run.request.modality)
    files = [file_read("record", record_path), file_read("prediction", prediction),
             *_optional_reads(image, truth)]
    return _Inputs(
        skill=run.skill, run_status=run.status, prediction=prediction, image=image, ground_truth=truth,
        prediction_space=space, reference_space=request.reference_labels or space, modality=modality,
        label_prompts=run.label_prompts, claimed_label_ids=run.output.label_ids_present,
        files_read=files, hash_checks=recorded_hash_checks(run.artifacts, request.run_dir, files))


def _optional_reads(image: Path | None, truth: Path | None) -> list[Artifact]:
    reads = [file_read("image", image)] if image is not None and image.is_file() else []
    return reads + ([file_read("ground_truth", truth)] if truth is not None and truth.is_file() else [])


def _space(value: str) -> LabelSpace:
    try:
        return LabelSpace(value)
    except ValueError as err:
        raise UsageError(f"result.json output.label_space={value!r} is not one of "
                         f"{', '.join(s.value for s in LabelSpace)}; pass --prediction-labels.") from err


def _modality(value: str | None) -> SegmentationModality:
    try:
        return SegmentationModality(value or SegmentationModality.CT_BODY)
    except ValueError as err:
        raise UsageError(f"result.json request.modality={value!r} is not one of "
                         f"{', '.join(m.value for m in SegmentationModality)}.") from err


def _default_modality(space: LabelSpace) -> SegmentationModality:
    return SegmentationModality.MRI_BODY if space is LabelSpace.TOTALSEGMENTATOR_MR else SegmentationModality.CT_BODY


def _target_tier(inputs: _Inputs) -> Tier:
    if inputs.skill is None:
        return tier("target", [skipped("skill_accepted", reason="a mask graded without a run record")])
    return tier("target", [
        *target_checks(inputs.skill, inputs.run_status, accepted=SkillId.SEGMENT_CTMR, what="a segmentation skill"),
        check("modality_supported", passed=True, measured=inputs.modality.value,
              reason="CT_BODY, MRI_BODY and MRI_BRAIN are graded (MRI with the MRI-trained classes)"),
    ])


def _geometry_tier(
    prediction: LoadedVolume, image: LoadedVolume | None, reference: LoadedVolume | None,
    hash_checks: list[VerdictCheck],
) -> Tier:
    checks = list(hash_checks)
    for role, other in (("image", image), ("ground_truth", reference)):
        if other is None:
            checks.append(skipped(f"{role}_geometry_match", reason=f"no {role.replace('_', ' ')} to compare"))
            continue
        comparison = compare_geometry(prediction.geometry, other.geometry)
        checks.append(check(
            f"{role}_geometry_match", passed=comparison.is_match, measured=comparison.affine_max_abs_diff,
            threshold=1e-4, reason=f"prediction {prediction.geometry.shape} vs {role} {other.geometry.shape}: "
            f"shape {comparison.is_shape_match}, spacing {comparison.is_spacing_match}, "
            f"affine {comparison.is_affine_match} (recomputed from the files)"))
    return tier("geometry", checks)


def _label_set_tier(labels: npt.NDArray[np.integer], inputs: _Inputs) -> Tier:
    present = [int(i) for i in np.flatnonzero(np.bincount(labels.ravel())) if i != 0]
    dictionary = load_label_dictionary(inputs.prediction_space)
    unknown = [i for i in present if i not in dictionary]
    checks = [
        check("any_class_present", passed=bool(present), measured=len(present), threshold=1,
              reason="the mask must label at least one structure"),
        check("ids_in_dictionary", passed=not unknown, measured=unknown or present,
              reason=f"every id must be a class of the {inputs.prediction_space} label dictionary"
              + (f"; unknown ids {unknown}" if unknown else "")),
    ]
    if inputs.modality.is_mri and inputs.prediction_space is LabelSpace.VISTA3D:
        untrained = [i for i in present if i in dictionary and "MRI" not in dictionary.entry(i).modalities]
        checks.append(check("ids_trained_for_mri", passed=not untrained, measured=untrained,
                            reason="an MRI run may only hold classes VISTA3D was trained on for MRI"))
    if inputs.label_prompts:
        allowed = _expand_prompts(inputs.label_prompts, inputs.prediction_space)
        extras = sorted(set(present) - allowed)
        checks.append(check("ids_within_prompts", passed=not extras, measured=extras, threshold=sorted(allowed),
                            reason="a prompted run may only label the prompted classes (parents expanded)"))
    if inputs.claimed_label_ids is not None:
        checks.append(check("claimed_ids_match_recomputed", passed=sorted(inputs.claimed_label_ids) == present,
                            measured=present, threshold=sorted(inputs.claimed_label_ids),
                            reason="the ids the wrapper reports must equal the ids in the mask on disk"))
    return tier("label_set", checks)


def _run_image(run: SegmentationRun, run_dir: Path) -> Path | None:
    """The image a run segmented; for a DICOM series input (a folder), the NIfTI the bundle read from it."""
    recorded = run.request.image
    if recorded is None:
        return None
    is_folder = (recorded if recorded.is_absolute() else run_dir / recorded).is_dir() or recorded.is_dir()
    if is_folder and run.bundle_input_path is not None:
        return resolve_artifact(run.bundle_input_path, run_dir)
    return resolve_artifact(recorded, run_dir)


def _expand_prompts(prompts: list[int], space: LabelSpace) -> set[int]:
    """Prompted ids plus the ids of their parts: the bundle's own expansion for VISTA3D (``bone`` into every
    vertebra and rib), and the anatomy table's parts in every space (``kidney`` into left and right)."""
    dictionary, table = load_label_dictionary(space), load_anatomy_table()
    allowed = set(prompts)
    if space is LabelSpace.VISTA3D:
        subclasses = vista3d_subclasses()
        allowed.update(part for prompt in prompts for part in subclasses.get(prompt, ()))
    for row in table.values():
        name, parent = row.names[space], row.parent
        while name is not None and parent is not None:
            parent_name = table[parent].names[space]
            if parent_name is not None and dictionary.id_of(parent_name) in allowed:
                allowed.add(dictionary.id_of(name))
                break
            parent = table[parent].parent
    return allowed


def _anatomy_tiers(
    labels: npt.NDArray[np.integer], space: LabelSpace, spacing: tuple[float, float, float]
) -> list[Tier]:
    volume_checks, fragmentation_checks = organ_checks(measure_organs(labels, space=space, spacing_mm=spacing))
    none = [skipped("no_bounded_organ", reason="no organ with published volume bounds is in the mask")]
    return [tier("organ_volumes", volume_checks or none), tier("fragmentation", fragmentation_checks or none)]


def _ground_truth_tier(scores: SegmentationScores, dice_floors: dict[str, float]) -> Tier:
    compared = [item for item in scores.classes if item.dice is not None]
    checks = [check("structures_compared", passed=bool(compared), measured=len(compared), threshold=1,
                    reason=f"{len(compared)} structures compared; {len(scores.without_counterpart)} classes "
                    "had no counterpart in the other label space")]
    for item in scores.classes:
        if item.dice_floor is not None:
            checks.append(check(f"dice_{item.name.replace(' ', '_')}", passed=(item.dice or 0.0) >= item.dice_floor,
                                measured=item.dice, threshold=item.dice_floor, reason="Dice against the reference"))
    for name in scores.unmatched_dice_floors:
        floor = dice_floors[name]
        checks.append(check(f"dice_{name.replace(' ', '_')}", passed=False, threshold=floor,
                            reason=f"a Dice floor is set for {name!r} but neither side holds that structure"))
    return tier("ground_truth", checks)
