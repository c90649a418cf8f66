"""Lung mask by HU and connected components, robust to lungs cut by the field of view.

Every air-like voxel (below -400 HU) is labelled in 3-D once; each component is then kept or
refused by one rule, recorded in :class:`LungDetection`:

1. ``too_small``: it never reaches a lung-sized area (8 cm^2) on any axial slice.
2. ``pure_air``: fewer than half of its voxels are aerated parenchyma (-950 to -600 HU). Outside
   air and bowel gas are pure air (about -1000 HU); parenchyma is not.
3. ``border_air``: it touches the image border and fewer than 70 % of its voxels are parenchyma.
   Outside air at the border mixes with partial-volume tissue (the table, blankets): 53 % on
   ``ct_abdomen_3mm``, while lungs cut by the field of view stay near 90 %.
4. ``lung``: otherwise. No body outline is needed, so a lung that touches the image border
   (a narrow field of view) is found; the old slice-by-slice body fill called it outside air.

Airways outside the lungs (trachea, main bronchi, and the lumen connected to them) are then
removed: inside the kept lung, pure-air voxels (below -950 HU) are labelled, and a component that
is a tube (at least 30 mm long along the axial axis, at most 10 cm^2 mean cross-section) is airway.
Documented limit: in severe emphysema, pure air is no longer tube-shaped and the airway stays in
the mask, and a lung mostly below -950 HU is refused by rule 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from medskills.core.models import FrozenModel
from medskills.dicom import HUVolume
from medskills.triage.preprocessing import StudyInputs, bounding_box

__all__ = [
    "AIR_HU_BELOW",
    "IN_PLANE_STRUCTURE",
    "PARENCHYMA_HU_RANGE",
    "BorderFace",
    "ComponentRule",
    "LungDetection",
    "LungSegmentation",
    "analysis_strides",
    "border_faces",
    "segment_lungs",
    "study_lungs",
]

AIR_HU_BELOW = -400.0
PURE_AIR_HU_BELOW = -950.0
PARENCHYMA_HU_RANGE = (-950.0, -600.0)
LUNG_COMPONENT_AREA_MIN_MM2 = 800.0
PARENCHYMA_FRACTION_MIN = 0.5
BORDER_PARENCHYMA_FRACTION_MIN = 0.7
AIRWAY_LENGTH_MIN_MM = 30.0
AIRWAY_MEAN_AREA_MAX_MM2 = 1000.0
ANALYSIS_GRID_MM = 2.0
IN_PLANE_STRUCTURE = np.zeros((3, 3, 3), dtype=bool)
"""4-connectivity within one axial slice: labelling with it handles each slice on its own."""
IN_PLANE_STRUCTURE[:, :, 1] = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
IN_PLANE_STRUCTURE.setflags(write=False)


class ComponentRule(StrEnum):
    """The rule that decided one air component (see the module docstring)."""

    LUNG = "lung"
    TOO_SMALL = "too_small"
    PURE_AIR = "pure_air"
    BORDER_AIR = "border_air"


class BorderFace(StrEnum):
    """A face of the volume, named by the RAS+ direction it faces."""

    LEFT = "left"
    RIGHT = "right"
    POSTERIOR = "posterior"
    ANTERIOR = "anterior"
    INFERIOR = "inferior"
    SUPERIOR = "superior"


_FACES = (  # (axis, index end) in RAS+ voxel order: axis 0 grows to the Right
    (BorderFace.LEFT, 0, 0), (BorderFace.RIGHT, 0, -1),
    (BorderFace.POSTERIOR, 1, 0), (BorderFace.ANTERIOR, 1, -1),
    (BorderFace.INFERIOR, 2, 0), (BorderFace.SUPERIOR, 2, -1),
)


class LungDetection(FrozenModel):
    """How the air components were decided, and what the kept lung touches."""

    components_by_rule: dict[ComponentRule, int]
    airway_volume_ml: float
    lung_volume_ml: float
    border_faces: tuple[BorderFace, ...]

    @property
    def is_field_of_view_partial(self) -> bool:
        """True when the lung touches the image border: whole-lung volumes are underestimated."""
        return bool(self.border_faces)


@dataclass(frozen=True)
class LungSegmentation:
    """The lung mask (airways removed), the lung field, and the record of how they were found.

    ``mask`` holds the aerated lung voxels (below -400 HU); ``field`` adds what the lung encloses on
    each axial slice (vessels, nodules, dense parenchyma), the region densitometry measures.
    """

    mask: npt.NDArray[np.bool_]
    field: npt.NDArray[np.bool_]
    detection: LungDetection


def segment_lungs(volume: HUVolume) -> LungSegmentation:
    """Find the lungs of ``volume`` (canonical RAS+ HU) by the rules of the module docstring.

    The components are decided on a grid of at most 2 mm (every second voxel of a 0.7 mm scan;
    scans coarser than 1 mm are used as they are), then the mask is brought back to full resolution and
    trimmed to the full-resolution air voxels, so densitometry sees every lung voxel.
    """
    strides = analysis_strides(volume.spacing_mm)
    grid = tuple(slice(None, None, step) for step in strides)
    spacing = (volume.spacing_mm[0] * strides[0], volume.spacing_mm[1] * strides[1], volume.spacing_mm[2] * strides[2])
    coarse, counts, airway_voxels = _segment_on_grid(np.ascontiguousarray(volume.array[grid]), spacing)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    lungs = _upsample(coarse, strides, volume.shape) & (volume.array < AIR_HU_BELOW)
    field = lungs | _upsample(_enclosed_in_plane(coarse), strides, volume.shape)
    full_voxel_ml = float(np.prod(volume.spacing_mm)) / 1000.0
    return LungSegmentation(
        lungs,
        field,
        LungDetection(components_by_rule=counts, airway_volume_ml=airway_voxels * voxel_ml,
                      lung_volume_ml=float(np.count_nonzero(lungs)) * full_voxel_ml, border_faces=border_faces(lungs)),
    )


def _enclosed_in_plane(lungs: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Voxels outside ``lungs`` that ``lungs`` encloses on their axial slice, in one labelling pass."""
    from scipy import ndimage

    box = bounding_box(lungs)
    enclosed = np.zeros(lungs.shape, dtype=bool)
    if box is None:
        return enclosed
    inside = lungs[box]
    labels, count = ndimage.label(~inside, structure=IN_PLANE_STRUCTURE)
    touches_edge = np.zeros(count + 1, dtype=bool)
    for axis in (0, 1):
        for end in (0, -1):
            touches_edge[np.take(labels, end, axis=axis)] = True
    touches_edge[0] = True
    enclosed[box] = ~touches_edge[labels]
    return enclosed


def study_lungs(inputs: StudyInputs) -> LungSegmentation:
    """:func:`segment_lungs` of the study, computed once per :class:`StudyInputs` and shared.

    The chest check and the qct member both need the lungs; a pipeline that passes the same
    ``StudyInputs`` to both pays for one segmentation.
    """
    return inputs.derive("lung_segmentation", lambda: segment_lungs(inputs.volume))


def analysis_strides(spacing_mm: tuple[float, float, float]) -> tuple[int, int, int]:
    """Voxel steps giving a grid of about :data:`ANALYSIS_GRID_MM` (never coarser than the scan)."""
    first, second, third = (max(1, int(ANALYSIS_GRID_MM // spacing)) for spacing in spacing_mm)
    return (first, second, third)


def _upsample(mask: npt.NDArray[np.bool_], strides: tuple[int, int, int],
              shape: tuple[int, int, int]) -> npt.NDArray[np.bool_]:
    """Nearest-neighbour upsampling by ``strides``: copies along the contiguous axis, then in-plane rows."""
    if strides == (1, 1, 1):
        return mask
    first, second, third = mask.shape
    along = np.empty((first, second, third, strides[2]), dtype=bool)
    for copy in range(strides[2]):
        along[..., copy] = mask
    rows = along.reshape(first, second, third * strides[2])
    view = np.broadcast_to(rows[:, None, :, None, :], (first, strides[0], second, strides[1], rows.shape[2]))
    full = view.reshape(first * strides[0], second * strides[1], rows.shape[2])
    return full[: shape[0], : shape[1], : shape[2]]


def _segment_on_grid(array: npt.NDArray[np.float32], spacing_mm: tuple[float, float, float]
                     ) -> tuple[npt.NDArray[np.bool_], dict[ComponentRule, int], int]:
    """Lung mask (airways removed), component counts by rule, and airway voxel count on one grid."""
    from scipy import ndimage

    labels, count = ndimage.label(array < AIR_HU_BELOW)
    if count == 0:
        return np.zeros(array.shape, dtype=bool), dict.fromkeys(ComponentRule, 0), 0
    rules = _decide_components(array, spacing_mm, labels, count)
    lungs = (rules == _RULE_CODES[ComponentRule.LUNG])[labels]
    airway = _airway_mask(array, spacing_mm, lungs)
    lungs &= ~airway
    counts = {rule: int(np.count_nonzero(rules[1:] == code)) for rule, code in _RULE_CODES.items()}
    return lungs, counts, int(np.count_nonzero(airway))


_RULE_CODES = {ComponentRule.LUNG: 0, ComponentRule.TOO_SMALL: 1, ComponentRule.PURE_AIR: 2,
               ComponentRule.BORDER_AIR: 3}


def _decide_components(array: npt.NDArray[np.float32], spacing_mm: tuple[float, float, float],
                       labels: npt.NDArray[np.int32], count: int) -> npt.NDArray[np.int8]:
    """One rule code per label (index 0, the background, is never lung)."""
    voxels = np.bincount(labels.ravel(), minlength=count + 1)
    low, high = PARENCHYMA_HU_RANGE
    parenchyma = np.bincount(labels[(array > low) & (array < high)], minlength=count + 1)
    fraction = parenchyma / np.maximum(voxels, 1)
    voxel_area_mm2 = spacing_mm[0] * spacing_mm[1]
    largest_slice_voxels = _largest_slice_voxels(labels, voxels, LUNG_COMPONENT_AREA_MIN_MM2 / voxel_area_mm2)
    largest_slice_mm2 = largest_slice_voxels * voxel_area_mm2
    on_border = np.zeros(count + 1, dtype=bool)
    for _, axis, end in _FACES:
        on_border[np.take(labels, end, axis=axis)] = True
    rules = np.full(count + 1, _RULE_CODES[ComponentRule.LUNG], dtype=np.int8)
    rules[on_border & (fraction < BORDER_PARENCHYMA_FRACTION_MIN)] = _RULE_CODES[ComponentRule.BORDER_AIR]
    rules[fraction < PARENCHYMA_FRACTION_MIN] = _RULE_CODES[ComponentRule.PURE_AIR]
    rules[largest_slice_mm2 < LUNG_COMPONENT_AREA_MIN_MM2] = _RULE_CODES[ComponentRule.TOO_SMALL]
    rules[0] = _RULE_CODES[ComponentRule.TOO_SMALL]
    return rules


def _airway_mask(array: npt.NDArray[np.float32], spacing_mm: tuple[float, float, float],
                 lungs: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pure-air tubes inside the lung mask: the trachea, bronchi and the lumen connected to them."""
    from scipy import ndimage

    labels, count = ndimage.label(lungs & (array < PURE_AIR_HU_BELOW))
    if count == 0:
        return np.zeros(array.shape, dtype=bool)
    voxels = np.bincount(labels.ravel(), minlength=count + 1)
    # a 6-connected component has voxels on every slice between its first and last
    slices_spanned = np.zeros(count + 1, dtype=np.int64)
    slices_spanned[1:] = [box[2].stop - box[2].start for box in ndimage.find_objects(labels)]
    length_mm = slices_spanned * spacing_mm[2]
    voxel_area_mm2 = spacing_mm[0] * spacing_mm[1]
    mean_area_mm2 = voxels * voxel_area_mm2 / np.maximum(slices_spanned, 1)
    is_airway = (length_mm >= AIRWAY_LENGTH_MIN_MM) & (mean_area_mm2 <= AIRWAY_MEAN_AREA_MAX_MM2)
    is_airway[0] = False
    airway: npt.NDArray[np.bool_] = is_airway[labels]
    return airway


def _largest_slice_voxels(labels: npt.NDArray[np.int32], voxels: npt.NDArray[np.int64],
                          at_least: float) -> npt.NDArray[np.int64]:
    """Most voxels of each component on one axial slice, counted only for components of ``at_least`` voxels.

    Smaller components cannot reach that area on a slice; their value is their voxel count.
    """
    from scipy import ndimage

    largest = voxels.copy()
    candidates = np.flatnonzero(voxels[1:] >= at_least) + 1
    boxes = ndimage.find_objects(labels)
    for index in candidates:
        box = boxes[index - 1]
        if box is not None:
            largest[index] = int(np.count_nonzero(labels[box] == index, axis=(0, 1)).max())
    return largest


def border_faces(mask: npt.NDArray[np.bool_]) -> tuple[BorderFace, ...]:
    """The faces of the volume that ``mask`` touches, in :class:`BorderFace` order."""
    return tuple(face for face, axis, end in _FACES if np.take(mask, end, axis=axis).any())
