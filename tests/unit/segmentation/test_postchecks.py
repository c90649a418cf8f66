"""The laterality gate, on world (RAS) centroids whatever the voxel axis order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medskills.core.models import Invocation, Status, utc_now
from medskills.core.volumes import label_statistics
from medskills.segmentation.labels import SegmentationModality
from medskills.segmentation.postchecks import PostRunContext, centroid_x_ras, evaluate_gates


def _two_blobs(right_id: int, left_id: int, affine: np.ndarray) -> np.ndarray:
    """Two blobs: ``right_id`` at low voxel-x, ``left_id`` at high voxel-x."""
    labels = np.zeros((20, 10, 10), np.int32)
    labels[2:5, 3:6, 3:6] = right_id
    labels[15:18, 3:6, 3:6] = left_id
    return labels


def _context(labels: np.ndarray, affine: np.ndarray) -> PostRunContext:
    invocation = Invocation(argv=["x"], cwd=Path("."), exit_code=0, timeout_seconds=1, runtime_seconds=0,
                            started_at=utc_now())
    return PostRunContext(invocation=invocation, expected_output=Path("x"), is_output_present=True,
                          integrality_error=None, geometry=None, statistics=label_statistics(labels, (1, 1, 1)),
                          allowed_ids=[1, 3, 5, 14], modality=SegmentationModality.CT_BODY,
                          centroid_x_mm=centroid_x_ras(labels, affine, (1, 3, 5, 14)))


def _laterality(context: PostRunContext) -> Status:
    return next(g.status for g in evaluate_gates(context) if g.gate == "laterality")


def test_laterality_passes_when_the_liver_is_on_the_patients_right() -> None:
    lps_like = np.diag([-1.0, 1.0, 1.0, 1.0])  # voxel x grows towards the patient's left
    assert _laterality(_context(_two_blobs(1, 3, lps_like), lps_like)) is Status.PASSED


def test_laterality_fails_when_left_and_right_are_swapped() -> None:
    ras = np.eye(4)  # voxel x grows towards the patient's right, so low x is the patient's left
    assert _laterality(_context(_two_blobs(1, 3, ras), ras)) is Status.FAILED
    assert _laterality(_context(_two_blobs(5, 14, ras), ras)) is Status.FAILED


def test_laterality_is_skipped_without_a_pair() -> None:
    ras = np.eye(4)
    assert _laterality(_context(_two_blobs(1, 5, ras), ras)) is Status.SKIPPED


def test_centroids_are_world_coordinates() -> None:
    labels = np.zeros((10, 4, 4), np.int32)
    labels[4, 0, 0] = 3
    affine = np.diag([2.0, 1.0, 1.0, 1.0])
    affine[0, 3] = -5.0
    assert centroid_x_ras(labels, affine, (1, 3)) == {3: 3.0}
