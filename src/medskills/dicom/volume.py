"""The CT case of :class:`medskills.core.image_volume.ImageVolume`: float32 HU in canonical RAS+."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medskills.core.image_volume import ImageVolume, VolumeOrientation, VolumeUnits

__all__ = ["HUVolume"]


@dataclass(frozen=True)
class HUVolume(ImageVolume):
    """A CT volume in Hounsfield units, float32, in closest-canonical RAS+ orientation.

    ``array`` has shape ``(I, J, K)``: axis 0 increases towards patient Right, axis 1 towards
    Anterior, axis 2 towards Superior. The other fields are those of :class:`ImageVolume`.
    """

    array: npt.NDArray[np.float32]
    units: VolumeUnits = VolumeUnits.HU
    orientation: VolumeOrientation = VolumeOrientation.CANONICAL_RAS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.array.dtype != np.float32:
            raise ValueError(f"HUVolume.array must be float32, got {self.array.dtype}")
        if self.units is not VolumeUnits.HU or self.orientation is not VolumeOrientation.CANONICAL_RAS:
            raise ValueError(f"HUVolume is HU in canonical RAS+, got {self.units.value} {self.orientation.value}")
