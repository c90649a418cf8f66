"""The MAISI body envelope (label 200) derived from a paired CT: everything inside the body that no class covers.

The body is tissue denser than air (above -800 HU), smoothed by a morphological closing, with the
holes of each axial slice filled (lungs, bowel gas) and only the largest connected part kept (drops
the couch and stray noise). Voxels of the label map that are background and inside the body become 200.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.core.models import FrozenModel

__all__ = ["BODY_LABEL", "BodyEnvelopeSummary", "EnvelopeResult", "add_body_envelope", "body_mask_from_ct"]

BODY_LABEL = 200
AIR_THRESHOLD_HU = -800.0
CLOSING_SIZE_VOXELS = 3


class BodyEnvelopeSummary(FrozenModel):
    """What the envelope step did, for evidence."""

    air_threshold_hu: float = AIR_THRESHOLD_HU
    closing_size_voxels: int = CLOSING_SIZE_VOXELS
    body_voxels: int
    voxels_labelled_body: int
    labelled_voxels_outside_body: int
    axial_axis: int


@dataclass(frozen=True)
class EnvelopeResult:
    """The label map with body 200 added, and the summary."""

    labels: npt.NDArray[np.integer]
    summary: BodyEnvelopeSummary


def _axial_axis(affine: npt.NDArray[np.float64]) -> int:
    """The voxel axis running head-foot (largest |z| component of its direction in RAS)."""
    return int(np.argmax(np.abs(affine[2, :3])))


def body_mask_from_ct(
    ct_hu: npt.NDArray[np.generic], affine: npt.NDArray[np.float64], *, inside: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """Boolean body mask of a CT in HU (voxel-index order kept).

    ``inside`` marks voxels known to be in the body (segmented classes such as air-filled lungs), so
    they close the outline before holes are filled.
    """
    from scipy import ndimage

    body = np.asarray(ct_hu) > AIR_THRESHOLD_HU
    if inside is not None:
        body |= inside
    cube = np.ones((CLOSING_SIZE_VOXELS,) * 3, dtype=bool)
    body |= ndimage.binary_closing(body, structure=cube)  # OR: closing must not erode at the volume border
    axis = _axial_axis(affine)
    in_plane = np.zeros((3, 3, 3), dtype=bool)  # connectivity within one axial slice: holes filled per slice
    in_plane[tuple(1 if a == axis else slice(None) for a in range(3))] = True
    body = ndimage.binary_fill_holes(body, structure=in_plane)
    components, count = ndimage.label(body)
    if count > 1:
        sizes = np.bincount(components.ravel())
        sizes[0] = 0
        body = components == int(np.argmax(sizes))
    return np.asarray(body, dtype=bool)


def add_body_envelope(
    labels: npt.NDArray[np.integer], ct_hu: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]
) -> EnvelopeResult:
    """Set background voxels inside the CT's body to 200; classes already present are kept.

    Args:
        labels: integer label map (MAISI ids), voxel-index order.
        ct_hu: the paired CT in HU on the same grid.
        affine: voxel-to-RAS affine of both (used to find the axial axis for hole filling).

    Raises:
        InputError: the CT and the label map have different shapes.
    """
    if tuple(ct_hu.shape) != tuple(labels.shape):
        raise InputError(f"the CT for --add-body-envelope has shape {tuple(ct_hu.shape)} but the mask has "
                         f"{tuple(labels.shape)}; pass the CT the mask was segmented from.")
    background = labels == 0
    body = body_mask_from_ct(ct_hu, affine, inside=~background)
    dtype = labels.dtype if np.iinfo(labels.dtype).max >= BODY_LABEL else np.uint16
    result = labels.astype(dtype, copy=True)
    result[background & body] = BODY_LABEL
    summary = BodyEnvelopeSummary(
        body_voxels=int(np.count_nonzero(body)), voxels_labelled_body=int(np.count_nonzero(background & body)),
        labelled_voxels_outside_body=int(np.count_nonzero(~background & ~body)), axial_axis=_axial_axis(affine),
    )
    return EnvelopeResult(labels=result, summary=summary)
