"""HUVolume is the CT case of ImageVolume: float32, HU, canonical RAS+; anything else is refused."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.core.image_volume import VolumeOrientation, VolumeUnits
from medskills.dicom import HUVolume


def _volume(**overrides: object) -> HUVolume:
    fields: dict[str, object] = {"array": np.zeros((2, 3, 4), np.float32), "affine": np.diag([0.5, 0.5, 2.0, 1.0]),
                                 "spacing_mm": (0.5, 0.5, 2.0), "study_uid": "1.2", "series_uid": "1.2.3"}
    return HUVolume(**{**fields, **overrides})  # type: ignore[arg-type]


def test_an_hu_volume_states_its_units_and_orientation() -> None:
    volume = _volume()
    assert (volume.units, volume.orientation, volume.shape) == (VolumeUnits.HU, VolumeOrientation.CANONICAL_RAS,
                                                                (2, 3, 4))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"array": np.zeros((2, 3, 4), np.float64)}, "float32"),
    ({"array": np.zeros((2, 3), np.float32)}, "3D"),
    ({"units": VolumeUnits.SIGNAL}, "HU in canonical RAS"),
    ({"orientation": VolumeOrientation.ON_DISK}, "HU in canonical RAS"),
    ({"spacing_mm": (1.0, 1.0, 1.0)}, "disagrees with the affine"),
])
def test_anything_but_float32_hu_in_canonical_ras_is_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _volume(**overrides)
