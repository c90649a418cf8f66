"""Brain-volume plausibility of a synthetic whole-head brain MRI, measured with deepbrain.

deepbrain (``medskills.pretrained.deepbrain``) extracts the brain (with CSF) from a head MRI; a
generated head whose extracted volume lies outside the adult intracranial range (Matsumae et al. 1996,
mean +/- 4 SD) does not look like an adult brain. deepbrain was trained on T1; it is applied to the
whole-head T1, T2 and FLAIR contrasts and skipped, with the reason, where a brain extraction says
nothing (skull-stripped images) or the contrast is unlike its training data (SWI, MRA).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medskills.core.errors import EnvironmentProblem, InputError
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.core.progress import OnProgress, report_progress
from medskills.core.volumes import LoadedVolume
from medskills.verification.verdict import VerdictCheck, check, skipped

__all__ = ["BRAIN_VOLUME_MODALITIES", "brain_volume_checks"]

# The whole-head contrasts whose deepbrain brain mask the check measures.
BRAIN_VOLUME_MODALITIES = frozenset({MRBrainModality.MRI_T1, MRBrainModality.MRI_T2, MRBrainModality.MRI_FLAIR})
BRAIN_PROBABILITY_THRESHOLD = 0.5


def _skip_reason(modality: str) -> str:
    if modality.endswith("_skull_stripped"):
        return f"{modality} is already skull-stripped: a brain-extraction volume would only repeat the image's mask"
    if modality in {MRBrainModality.MRI_SWI, MRBrainModality.MRI_MRA}:
        return f"{modality} contrast is unlike deepbrain's T1 training data; its brain mask would not be trustworthy"
    return f"modality {modality or 'not given'}: the check applies to whole-head {', '.join(sorted(BRAIN_VOLUME_MODALITIES))}"


def brain_volume_checks(images: Sequence[tuple[int, LoadedVolume]], modality: str, *,
                        on_progress: OnProgress | None = None) -> list[VerdictCheck]:
    """One check per image: deepbrain's brain-mask volume (mL) within the adult range, or why it was skipped.

    ``on_progress`` hears of each image deepbrain has read.
    """
    from medskills.pretrained.deepbrain import ADULT_BRAIN_MASK_RANGE_ML, load_deepbrain

    if modality not in BRAIN_VOLUME_MODALITIES:
        return [skipped("brain_volume", reason=_skip_reason(modality))]
    try:
        model = load_deepbrain()
    except EnvironmentProblem as err:
        return [skipped("brain_volume", reason=f"deepbrain not usable here: {err}")]
    low, high = ADULT_BRAIN_MASK_RANGE_ML
    checks = []
    for done, (index, volume) in enumerate(images, start=1):
        name = f"sample{index}_brain_volume_ml"
        try:
            probability = model.predict_probability(np.asarray(volume.array, dtype=np.float32))
        except InputError as err:
            report_progress(on_progress, done, len(images))
            checks.append(check(name, passed=False, reason=f"deepbrain found no brain: {err}"))
            continue
        report_progress(on_progress, done, len(images))
        voxel_ml = float(np.prod(volume.geometry.spacing_mm)) / 1000.0
        volume_ml = round(float((probability > BRAIN_PROBABILITY_THRESHOLD).sum()) * voxel_ml, 1)
        checks.append(check(name, passed=low <= volume_ml <= high, measured=volume_ml,
                            threshold=f"{low:.0f} to {high:.0f} mL",
                            reason=f"deepbrain ({model.weights_sha256[:12]}) probability > "
                                   f"{BRAIN_PROBABILITY_THRESHOLD}; adult intracranial range, Matsumae et al. "
                                   "1996, mean +/- 4 SD"))
    return checks
