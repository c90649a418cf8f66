"""Does a CT show what its label map claims? Box prompts from the label, LiteMedSAM's mask, Dice.

For each organ, the ``slices_per_organ`` axial slices where the label is largest are prompted with
the label's tight box on that slice; LiteMedSAM segments what the image shows in the box and the
Dice with the label says whether the image holds that organ there. A slice is encoded once for all
the organs prompted on it. Everything runs on the volume reoriented to RAS, with each axial slice
shown radiologically (rows anterior to posterior, columns patient right to left) as LiteMedSAM saw
its training images; reported slice indices are on the file's own voxel grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import Field

from medskills.core.models import FrozenModel

if TYPE_CHECKING:
    from medskills.pretrained.litemedsam import BoxSegmentation, LiteMedSamModel

__all__ = [
    "OrganAgreement",
    "OrganLabel",
    "PairConsistencyScores",
    "RasPair",
    "SampleAgreement",
    "Side",
    "SideMeasurement",
    "SliceAgreement",
    "SliceSegmenter",
    "display_slice",
    "measure_organs",
    "measure_side",
    "to_ras_pair",
]

BODY_ABOVE_HU = -500.0


class Side(StrEnum):
    """The patient's side an organ lies on."""

    RIGHT = "right"
    LEFT = "left"


class SliceAgreement(FrozenModel):
    """One prompted slice: the label's box, both masks' sizes and their Dice."""

    slice_index: int = Field(description="Axial index on the file's own voxel grid.")
    box_xyxy: list[int] = Field(description="column0, row0, column1, row1 on the radiologically shown slice.")
    label_pixels: int
    model_pixels: int
    dice: float
    predicted_iou: float = Field(description="LiteMedSAM's own estimate of its mask's IoU.")


class OrganAgreement(FrozenModel):
    """One organ of one sample: Dice pooled over its prompted slices, and each slice."""

    anatomy: str
    label_ids: list[int]
    label_volume_ml: float
    dice: float
    worst_slice_dice: float
    slices: list[SliceAgreement]


class SideMeasurement(FrozenModel):
    """How far an organ's centre lies on its expected side of the body's centre (mm, negative = wrong side)."""

    anatomy: str
    expected_side: Side
    offset_mm: float


class SampleAgreement(FrozenModel):
    """Every measured organ of one image + label pair."""

    sample: int
    image_path: Path
    label_path: Path
    organs: list[OrganAgreement]
    sides: list[SideMeasurement]
    not_checked: list[str] = Field(default_factory=list, description="Labels present but not measured, and why.")
    slices_encoded: list[int]


class PairConsistencyScores(FrozenModel):
    """What ``ct_pair_consistency_v1`` measured, with the model and the settings it used."""

    model: str
    weights_path: Path
    weights_sha256: str
    window_level_hu: float
    window_width_hu: float
    slices_per_organ: int
    torch_threads: int
    runtime_seconds: float
    samples: list[SampleAgreement]


@dataclass(frozen=True)
class OrganLabel:
    """An organ of the label map by anatomy name, and the label ids that draw it."""

    anatomy: str
    label_ids: tuple[int, ...]


@dataclass(frozen=True)
class RasPair:
    """Image (HU) and labels reoriented to RAS, with the map back to the file's axial indices."""

    image: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int32]
    affine: npt.NDArray[np.float64]
    file_slice_index: Callable[[int], int]
    voxel_volume_ml: float


def to_ras_pair(image: npt.NDArray[np.generic], labels: npt.NDArray[np.integer],
                affine: npt.NDArray[np.float64]) -> RasPair:
    """Reorient an image and its label map (same grid, voxel-index order, ``affine`` to RAS mm) to RAS."""
    import nibabel as nib

    orientation = nib.orientations.io_orientation(affine)
    ras_image = np.asarray(nib.orientations.apply_orientation(image, orientation), dtype=np.float32)
    ras_labels = np.asarray(nib.orientations.apply_orientation(labels, orientation), dtype=np.int32)
    ras_affine = affine @ nib.orientations.inv_ornt_aff(orientation, image.shape)
    file_axis = int(np.flatnonzero(orientation[:, 0] == 2)[0])
    is_flipped = orientation[file_axis, 1] < 0
    depth = image.shape[file_axis]
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))

    def file_slice_index(ras_index: int) -> int:
        return depth - 1 - ras_index if is_flipped else ras_index

    return RasPair(ras_image, ras_labels, ras_affine, file_slice_index, float(np.prod(spacing)) / 1000.0)


def display_slice(volume: npt.NDArray[Any], ras_index: int) -> npt.NDArray[Any]:
    """Axial slice ``ras_index`` of a RAS volume, rows anterior to posterior, columns patient right to left."""
    return np.ascontiguousarray(volume[:, :, ras_index].T[::-1, ::-1])


class SliceSegmenter:
    """LiteMedSAM on the slices of one image; each slice is encoded once and kept for later prompts."""

    def __init__(self, model: LiteMedSamModel, image: npt.NDArray[np.float32]) -> None:
        self._model = model
        self._image = image
        self._encoded: dict[int, tuple[Any, Any]] = {}

    @property
    def encoded_slices(self) -> list[int]:
        return sorted(self._encoded)

    def segment(self, ras_index: int, boxes_xyxy: npt.NDArray[np.floating]) -> BoxSegmentation:
        from medskills.pretrained.litemedsam import prepare_ct_slice

        if ras_index not in self._encoded:
            prepared = prepare_ct_slice(display_slice(self._image, ras_index))
            self._encoded[ras_index] = (prepared, self._model.encode(prepared))
        prepared, embedding = self._encoded[ras_index]
        return self._model.decode(embedding, prepared, boxes_xyxy)


def _largest_slices(mask: npt.NDArray[np.bool_], count: int) -> list[int]:
    areas = mask.sum(axis=(0, 1))
    order = sorted(np.flatnonzero(areas), key=lambda k: (-int(areas[k]), int(k)))
    return sorted(int(k) for k in order[:count])


def _box(mask2d: npt.NDArray[np.bool_]) -> list[int]:
    rows, columns = np.nonzero(mask2d)
    return [int(columns.min()), int(rows.min()), int(columns.max()), int(rows.max())]


def measure_organs(pair: RasPair, organs: Sequence[OrganLabel], segmenter: SliceSegmenter, *,
                   slices_per_organ: int) -> list[OrganAgreement]:
    """Prompt every organ on its largest slices and return its Dice with the label, pooled and per slice."""
    masks = [np.isin(pair.labels, organ.label_ids) for organ in organs]
    by_slice: dict[int, list[int]] = {}  # RAS slice index -> positions of the organs prompted on it
    for position, mask in enumerate(masks):
        for ras_index in _largest_slices(mask, slices_per_organ):
            by_slice.setdefault(ras_index, []).append(position)
    per_organ: dict[int, list[tuple[int, SliceAgreement]]] = {position: [] for position in range(len(organs))}
    for ras_index, positions in sorted(by_slice.items()):
        label_slices = [display_slice(masks[position], ras_index) for position in positions]
        boxes = np.array([_box(label) for label in label_slices], dtype=np.float32)
        result = segmenter.segment(ras_index, boxes)
        for position, label, box, predicted, iou in zip(positions, label_slices, boxes, result.masks,
                                                         result.predicted_iou, strict=True):
            overlap = int(np.logical_and(label, predicted).sum())
            label_pixels, model_pixels = int(label.sum()), int(predicted.sum())
            per_organ[position].append((overlap, SliceAgreement(
                slice_index=pair.file_slice_index(ras_index), box_xyxy=[int(v) for v in box],
                label_pixels=label_pixels, model_pixels=model_pixels,
                dice=round(2 * overlap / (label_pixels + model_pixels), 4), predicted_iou=round(float(iou), 4))))
    return [_organ_agreement(organ, mask, per_organ[position], pair.voxel_volume_ml)
            for position, (organ, mask) in enumerate(zip(organs, masks, strict=True))]


def _organ_agreement(organ: OrganLabel, mask: npt.NDArray[np.bool_], measured: list[tuple[int, SliceAgreement]],
                     voxel_volume_ml: float) -> OrganAgreement:
    overlap = sum(item[0] for item in measured)
    total = sum(item[1].label_pixels + item[1].model_pixels for item in measured)
    slices = sorted((item[1] for item in measured), key=lambda s: s.slice_index)
    return OrganAgreement(anatomy=organ.anatomy, label_ids=list(organ.label_ids),
                          label_volume_ml=round(float(mask.sum()) * voxel_volume_ml, 2),
                          dice=round(2 * overlap / total, 4) if total else 0.0,
                          worst_slice_dice=min(s.dice for s in slices), slices=slices)


def measure_side(pair: RasPair, organ: OrganLabel, expected: Side) -> SideMeasurement:
    """Offset of the organ's centre from the body's centre along the patient's left-right axis (RAS x).

    The body centre is the mean position of the voxels above -500 HU on the organ's axial slices.
    """
    mask = np.isin(pair.labels, organ.label_ids)
    slices = np.flatnonzero(mask.any(axis=(0, 1)))
    body = np.argwhere(pair.image[:, :, slices] > BODY_ABOVE_HU)
    body[:, 2] = slices[body[:, 2]]
    toward_right = _mean_world_x(np.argwhere(mask), pair.affine) - _mean_world_x(body, pair.affine)
    offset = toward_right if expected is Side.RIGHT else -toward_right
    return SideMeasurement(anatomy=organ.anatomy, expected_side=expected, offset_mm=round(float(offset), 1))


def _mean_world_x(indices: npt.NDArray[np.intp], affine: npt.NDArray[np.float64]) -> float:
    """RAS x of the mean voxel position (mm; RAS x grows toward the patient's right)."""
    centre = indices.astype(np.float64).mean(axis=0)
    return float(centre @ affine[0, :3] + affine[0, 3])
