"""The outline drawn on the preprocessing card: a visible band across the mask boundary, nothing else."""

from __future__ import annotations

import numpy as np

from medskills.segmentation.brain_preprocess.card import mask_outline


def test_the_outline_is_a_band_across_the_boundary_and_leaves_the_inside_and_outside_empty() -> None:
    mask = np.zeros((20, 20, 20), dtype=bool)
    mask[5:15, 5:15, 5:15] = True
    outline = mask_outline(mask)
    assert outline.dtype == np.uint8 and set(np.unique(outline)) == {0, 1}
    assert outline[10, 10, 10] == 0 and outline[0, 0, 0] == 0  # deep inside, far outside
    # along one line through the centre: one voxel outside, two inside the boundary, on each side
    assert outline[10, 10, :].nonzero()[0].tolist() == [4, 5, 6, 13, 14, 15]


def test_an_empty_mask_has_no_outline() -> None:
    assert not mask_outline(np.zeros((8, 8, 8), dtype=bool)).any()
