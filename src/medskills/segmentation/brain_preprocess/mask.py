"""The brain mask from deepbrain's probability: threshold, keep the largest component, measure it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.pretrained.deepbrain import ADULT_BRAIN_MASK_RANGE_ML

__all__ = ["ADULT_BRAIN_MASK_RANGE_ML", "BrainMask", "clean_brain_mask"]


@dataclass(frozen=True)
class BrainMask:
    """The cleaned mask and what the raw threshold looked like."""

    mask: npt.NDArray[np.bool_]
    raw_component_count: int
    main_component_fraction: float


def clean_brain_mask(probability: npt.NDArray[np.floating], *, threshold: float) -> BrainMask:
    """Threshold, then keep the largest 6-connected component (deepbrain leaves a few specks).

    Raises:
        InputError: no voxel reaches the threshold (no brain found).
    """
    from scipy import ndimage

    raw = np.asarray(probability) > threshold
    labels, count = ndimage.label(raw)
    if count == 0:
        raise InputError(f"deepbrain found no brain (no voxel with probability > {threshold}). Is this a T1 head MRI?")
    sizes = np.bincount(labels.ravel())[1:]
    main = int(np.argmax(sizes)) + 1
    return BrainMask(mask=labels == main, raw_component_count=int(count),
                     main_component_fraction=float(sizes[main - 1] / sizes.sum()))
