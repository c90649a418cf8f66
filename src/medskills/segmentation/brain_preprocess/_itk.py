"""Moving arrays with a RAS affine in and out of SimpleITK images (LPS, z-y-x array order)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LPS_FROM_RAS", "from_itk", "import_simpleitk", "to_itk"]

LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0])


def import_simpleitk() -> Any:
    """Import SimpleITK, or say which extra installs it."""
    from medskills.core.errors import EnvironmentProblem

    try:
        import SimpleITK as sitk
    except ImportError as err:
        raise EnvironmentProblem("brain preprocessing needs SimpleITK: pip install 'medskills[brain]'") from err
    return sitk


def to_itk(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]) -> Any:
    """A SimpleITK image of ``array`` (voxel order i, j, k) on the grid of the RAS ``affine``."""
    sitk = import_simpleitk()
    image = sitk.GetImageFromArray(np.ascontiguousarray(np.transpose(array, (2, 1, 0))))
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    image.SetSpacing([float(s) for s in spacing])
    image.SetOrigin([float(v) for v in LPS_FROM_RAS @ affine[:3, 3]])
    image.SetDirection([float(v) for v in (LPS_FROM_RAS @ affine[:3, :3] / spacing).ravel()])
    return image


def from_itk(image: Any) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.float64]]:
    """The array (voxel order i, j, k) and RAS affine of a SimpleITK image."""
    sitk = import_simpleitk()
    array = np.transpose(sitk.GetArrayFromImage(image), (2, 1, 0))
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = LPS_FROM_RAS @ direction @ np.diag(np.asarray(image.GetSpacing(), dtype=np.float64))
    affine[:3, 3] = LPS_FROM_RAS @ np.asarray(image.GetOrigin(), dtype=np.float64)
    return array, affine
