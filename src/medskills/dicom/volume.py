"""The one typed CT volume every downstream consumer derives from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["HUVolume"]


@dataclass(frozen=True)
class HUVolume:
    """A CT volume in Hounsfield units, in canonical RAS+ orientation.

    Attributes:
        array: float32 HU, shape ``(I, J, K)`` in voxel-index order, in the closest canonical
            orientation (nibabel ``as_closest_canonical``): axis 0 increases towards patient Right,
            axis 1 towards Anterior, axis 2 towards Superior (RAS+).
        affine: 4x4 voxel-index -> world RAS millimetre transform (NIfTI convention).
        spacing_mm: voxel size along axes 0, 1, 2 in millimetres.
        study_uid, series_uid: DICOM UIDs of the source (synthetic ``nifti_<name>`` ids for NIfTI input).
        sop_instance_uids: source instances in slice order along axis 2 (empty for NIfTI input).
        source_path: the file or directory the volume was read from.
    """

    array: npt.NDArray[np.float32]
    affine: npt.NDArray[np.float64]
    spacing_mm: tuple[float, float, float]
    study_uid: str
    series_uid: str
    sop_instance_uids: tuple[str, ...] = field(default_factory=tuple)
    source_path: Path | None = None

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"HUVolume.array must be 3D, got shape {self.array.shape}")
        if self.array.dtype != np.float32:
            raise ValueError(f"HUVolume.array must be float32, got {self.array.dtype}")
        if self.affine.shape != (4, 4):
            raise ValueError(f"HUVolume.affine must be 4x4, got {self.affine.shape}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxel counts along axes 0, 1, 2."""
        i, j, k = self.array.shape
        return (i, j, k)
