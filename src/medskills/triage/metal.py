"""Medical material (metal) inside the body, told apart from dense contrast at the same saturated HU.

Every voxel at or above 2000 HU (above cortical bone, where metal and undiluted contrast both
saturate) is grouped into 26-connected components, and each component is decided by one rule:

1. ``outside_body``: the median HU of its 2-voxel neighbourhood is below -200, darker than fat
   (-150 to -50 HU), so most of its neighbours are air: ECG leads and cables on the skin, parts of
   the table. On the chest crop the cables on the chest wall measure -782 to -242 HU.
2. ``dense_contrast``: that neighbourhood median is at least 650 HU. Contrast saturates only at the
   core of a vessel full of contrast, so its neighbours are contrast-bright blood; metal sits in
   soft tissue, bone or ordinary enhanced blood. On ``ct_chest_crop_1p5mm`` the superior vena cava
   contrast and its fragments measure 676-1472 HU, the aortic stent struts 412-566 HU, the
   sternotomy wires 175-355 HU (margin about 110 HU; see ``docs/triage_qct.md``).
3. ``too_small``: below 5 mm^3 (a voxel or two of noise or dense bone).
4. ``metal``: otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from medskills.dicom import HUVolume

__all__ = ["METAL_HU_MIN", "DenseComponent", "DenseRule", "MetalSegmentation", "segment_metal"]

METAL_HU_MIN = 2000.0
OUTSIDE_BODY_SHELL_HU_BELOW = -200.0
CONTRAST_SHELL_HU_MIN = 650.0
COMPONENT_VOLUME_MIN_MM3 = 5.0
SHELL_VOXELS = 2


class DenseRule(StrEnum):
    """The rule that decided one component of saturated voxels."""

    METAL = "metal"
    DENSE_CONTRAST = "dense_contrast"
    OUTSIDE_BODY = "outside_body"
    TOO_SMALL = "too_small"


@dataclass(frozen=True)
class DenseComponent:
    """One component: its volume, neighbourhood median HU, thickness and the deciding rule.

    ``thickness_mm`` is the smallest extent of its bounding box (a shape descriptor for the docs and
    the record; the rules do not use it).
    """

    volume_mm3: float
    shell_median_hu: float
    thickness_mm: float
    rule: DenseRule


@dataclass(frozen=True)
class MetalSegmentation:
    """Voxel label map (0 none, then :class:`DenseRule` order from 1) and the decided components."""

    labels: npt.NDArray[np.uint8]
    components: tuple[DenseComponent, ...]

    def volume_ml(self, rule: DenseRule) -> float:
        """Total volume of the components decided by ``rule``, in mL."""
        return sum(c.volume_mm3 for c in self.components if c.rule is rule) / 1000.0


RULE_LABELS = {rule: index for index, rule in enumerate(DenseRule, start=1)}


def segment_metal(volume: HUVolume) -> MetalSegmentation:
    """Find and decide the saturated components of ``volume`` (rules in the module docstring)."""
    from scipy import ndimage

    array = volume.array
    dense = array >= METAL_HU_MIN
    labels_out = np.zeros(volume.shape, dtype=np.uint8)
    box = _sparse_bounding_box(dense)
    if box is None:
        return MetalSegmentation(labels_out, ())
    labels, _ = ndimage.label(dense[box], structure=np.ones((3, 3, 3), dtype=bool))
    voxel_mm3 = float(np.prod(volume.spacing_mm))
    components = []
    for index, where in enumerate(ndimage.find_objects(labels), start=1):
        padded = tuple(
            slice(max(s.start - SHELL_VOXELS, 0), min(s.stop + SHELL_VOXELS, n))
            for s, n in zip(where, labels.shape, strict=True)
        )
        own = labels[padded] == index
        component = _decide(own, dense[box][padded], array[box][padded], volume.spacing_mm, voxel_mm3)
        components.append(component)
        labels_out[box][padded][own] = RULE_LABELS[component.rule]
    return MetalSegmentation(labels_out, tuple(components))


def _sparse_bounding_box(mask: npt.NDArray[np.bool_]) -> tuple[slice, slice, slice] | None:
    """Bounding box of a sparse mask from its voxel indices (cheaper than three projections)."""
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return None
    index = np.unravel_index(flat, mask.shape)
    first, second, third = (slice(int(axis.min()), int(axis.max()) + 1) for axis in index)
    return (first, second, third)


def _thickness_mm(own: npt.NDArray[np.bool_], spacing_mm: tuple[float, float, float]) -> float:
    extents = [int(np.flatnonzero(own.any(axis=tuple(a for a in range(3) if a != axis))).size) * spacing_mm[axis]
               for axis in range(3)]
    return float(min(extents))


def _decide(own: npt.NDArray[np.bool_], dense: npt.NDArray[np.bool_], values: npt.NDArray[np.float32],
            spacing_mm: tuple[float, float, float], voxel_mm3: float) -> DenseComponent:
    from scipy import ndimage

    shell = ndimage.binary_dilation(own, iterations=SHELL_VOXELS) & ~dense
    shell_median = float(np.median(values[shell])) if shell.any() else float("nan")
    thickness = _thickness_mm(own, spacing_mm)
    volume_mm3 = float(np.count_nonzero(own)) * voxel_mm3
    if shell_median < OUTSIDE_BODY_SHELL_HU_BELOW:
        rule = DenseRule.OUTSIDE_BODY
    elif shell_median >= CONTRAST_SHELL_HU_MIN:
        rule = DenseRule.DENSE_CONTRAST
    elif volume_mm3 < COMPONENT_VOLUME_MIN_MM3:
        rule = DenseRule.TOO_SMALL
    else:
        rule = DenseRule.METAL
    return DenseComponent(volume_mm3, shell_median, thickness, rule)
