"""A LiteMedSAM stand-in and a small CT phantom for the ct_pair_consistency_v1 unit tests.

The real network runs with its real weights in ``tests/integration/verification/test_ct_pair_consistency.py``.
Here the verifier's own decisions (thresholds, sides, skipped labels, slice bookkeeping) need masks a
test can predict, so :class:`BrightInBoxModel` keeps LiteMedSAM's contract (one ``encode`` per
prepared slice, ``decode`` of (N, 4) inclusive boxes into (N, rows, columns) masks on the slice grid)
and segments what the image shows: the pixels in the box that are bright after the abdomen window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.pretrained.litemedsam import BoxSegmentation, PreparedSlice

ORGAN_HU = 150.0  # bright after the abdomen window (-160 to 240 HU)
TISSUE_HU = 0.0
AIR_HU = -1000.0
BONE_HU = 1000.0
SHAPE = (48, 40, 8)  # voxel grid, 2 mm; with :data:`RAS_AFFINE` i grows toward the patient's right
RAS_AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])
BODY_X = (4, 44)  # body voxels along i: its centre is i = 23.5
TS_LIVER, TS_SPLEEN, TS_PANCREAS, TS_AORTA = 5, 1, 7, 52  # TotalSegmentator ids
_BRIGHT_ABOVE = 0.65  # on the network's [0, 1] scale: tissue is 0.4-0.52, an organ 0.78-1.0


@dataclass
class BrightInBoxModel:
    """LiteMedSAM's interface; a box's mask is what the windowed slice shows bright inside that box."""

    weights_path: Path
    weights_sha256: str = "0" * 64
    encodings: int = field(default=0)

    def encode(self, prepared: PreparedSlice) -> npt.NDArray[np.float32]:
        """The network's input brought back to the slice grid (the embedding of this stand-in)."""
        import torch.nn.functional as F

        self.encodings += 1
        rows, columns = prepared.resized_shape
        shown = prepared.network_input[:, :1, :rows, :columns]
        back = F.interpolate(shown, size=prepared.original_shape, mode="bilinear", align_corners=False)
        return np.asarray(back[0, 0].numpy(), dtype=np.float32)

    def decode(self, embedding: npt.NDArray[np.float32], prepared: PreparedSlice,
               boxes_xyxy: npt.NDArray[np.floating]) -> BoxSegmentation:
        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4).astype(int)
        masks = np.zeros((len(boxes), *prepared.original_shape), dtype=bool)
        for index, (column0, row0, column1, row1) in enumerate(boxes):
            inside = embedding[row0:row1 + 1, column0:column1 + 1] > _BRIGHT_ABOVE
            masks[index, row0:row1 + 1, column0:column1 + 1] = inside
        return BoxSegmentation(masks=masks, predicted_iou=np.full(len(boxes), 0.9, dtype=np.float32))


def bright_in_box_model(folder: Path) -> BrightInBoxModel:
    """The stand-in with a weight file on disk (the verdict lists it among the files read)."""
    weights = folder / "stand_in_lite_medsam.pth"
    weights.write_bytes(b"stand-in LiteMedSAM weights")
    return BrightInBoxModel(weights_path=weights)


def body_phantom() -> npt.NDArray[np.float32]:
    """Air around a soft-tissue body (i 4-43, j 4-35, every slice) with a bright spine at the back."""
    image = np.full(SHAPE, AIR_HU, dtype=np.float32)
    image[BODY_X[0]:BODY_X[1], 4:36, :] = TISSUE_HU
    image[22:26, 5:9, :] = BONE_HU
    return image


def add_organ(image: npt.NDArray[np.float32], labels: npt.NDArray[np.integer], label_id: int,
              box: tuple[slice, slice, slice], *, is_shown: bool = True) -> None:
    """Draw an organ in the label map at ``box`` (voxel index slices) and, when ``is_shown``, in the image."""
    labels[box] = label_id
    if is_shown:
        image[box] = ORGAN_HU
