"""The one volume type and the one NIfTI reader: voxels, voxel-to-RAS affine, spacing in mm, stated
orientation and units.

:func:`read_nifti` (NIfTI files) and :mod:`medskills.dicom` (DICOM series) return an
:class:`ImageVolume`; the caller chooses on-disk or closest-canonical RAS+ orientation explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.core.models import FrozenModel

if TYPE_CHECKING:
    from nibabel import Nifti1Image, Nifti2Image

__all__ = [
    "CanonicalTransform",
    "Geometry",
    "ImageVolume",
    "VolumeOrientation",
    "VolumeUnits",
    "canonical_transform",
    "geometry_of",
    "open_nifti",
    "read_nifti",
    "spacing_from_affine",
    "to_canonical_ras",
]

_SPACING_TOLERANCE_MM = 1e-3


class VolumeUnits(StrEnum):
    """What a voxel value means."""

    HU = "HU"  # CT Hounsfield units (air -1000, water 0)
    UNKNOWN = "unknown"  # the source does not say (a NIfTI file read without a stated modality)
    SIGNAL = "signal"  # scanner units with no physical scale (MR and most other modalities)
    LABEL = "label"  # integer label ids


class VolumeOrientation(StrEnum):
    """How the voxel axes are laid out relative to the patient."""

    ON_DISK = "on_disk"  # as stored in the file; the affine says where each axis points
    CANONICAL_RAS = "canonical_ras"  # closest canonical RAS+: axes 0, 1, 2 increase towards R, A, S


class Geometry(FrozenModel):
    """Voxel grid of a volume.

    ``shape`` and ``spacing_mm`` are in voxel-index order (axes 0, 1, 2). ``affine`` maps voxel
    indices to world RAS millimetres (NIfTI convention); ``axis_codes`` name the world direction
    each voxel axis increases towards (for example ``"RAS"`` or ``"LPS"``).
    """

    shape: tuple[int, ...]
    spacing_mm: tuple[float, float, float]
    affine: list[list[float]]
    axis_codes: str
    dtype: str


def geometry_of(shape: tuple[int, ...], affine: npt.NDArray[np.float64], dtype: str) -> Geometry:
    """Build a :class:`Geometry` from an array shape and a voxel-to-RAS affine."""
    import nibabel as nib

    return Geometry(
        shape=tuple(int(n) for n in shape),
        spacing_mm=spacing_from_affine(affine),
        affine=[[float(v) for v in row] for row in affine],
        axis_codes="".join(str(code) for code in nib.aff2axcodes(affine)),
        dtype=dtype,
    )


@dataclass(frozen=True)
class ImageVolume:
    """A 3D image in world space.

    Attributes:
        array: shape ``(I, J, K)`` in voxel-index order (any memory order; positive strides).
        affine: 4x4 voxel-index -> world RAS millimetre transform (NIfTI convention).
        spacing_mm: voxel size along axes 0, 1, 2 in millimetres (checked against ``affine``).
        units: what the values mean; orientation: on-disk or canonical RAS+ axes.
        study_uid, series_uid: DICOM UIDs of the source (synthetic ids for files without them).
        sop_instance_uids: DICOM source instances in order along axis 2 (empty otherwise).
        source_path: the file or folder the volume was read from.
    """

    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    spacing_mm: tuple[float, float, float]
    units: VolumeUnits
    orientation: VolumeOrientation
    study_uid: str = ""
    series_uid: str = ""
    sop_instance_uids: tuple[str, ...] = field(default_factory=tuple)
    source_path: Path | None = None

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self.array.ndim != 3:
            raise ValueError(f"{name}.array must be 3D, got shape {self.array.shape}")
        if self.affine.shape != (4, 4):
            raise ValueError(f"{name}.affine must be 4x4, got {self.affine.shape}")
        from_affine = spacing_from_affine(self.affine)
        if not np.allclose(from_affine, self.spacing_mm, atol=_SPACING_TOLERANCE_MM):
            raise ValueError(f"{name}.spacing_mm {self.spacing_mm} disagrees with the affine's column lengths "
                             f"{tuple(round(s, 4) for s in from_affine)}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxel counts along axes 0, 1, 2."""
        i, j, k = self.array.shape
        return (i, j, k)

    @property
    def path(self) -> Path:
        """The file or folder the volume was read from.

        Raises:
            ValueError: the volume was built in memory (``source_path`` is None).
        """
        if self.source_path is None:
            raise ValueError(f"this {type(self).__name__} was built in memory; it has no source path")
        return self.source_path

    @cached_property
    def geometry(self) -> Geometry:
        """The voxel grid (shape, spacing, affine, axis codes, dtype), computed once."""
        return geometry_of(self.array.shape, self.affine, str(self.array.dtype))


def spacing_from_affine(affine: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """Voxel size in mm along axes 0, 1, 2: the lengths of the affine's first three columns."""
    spacing = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    return (float(spacing[0]), float(spacing[1]), float(spacing[2]))


@dataclass(frozen=True)
class CanonicalTransform:
    """The axis permutation and flips that take a voxel grid to its closest canonical RAS+ grid.

    ``source_axis_for[k]`` is the source axis stored along canonical axis ``k``; ``is_flipped[k]``
    says whether it is reversed. Only permutations and flips (no resampling), as in
    ``nibabel.as_closest_canonical``.
    """

    source_axis_for: tuple[int, int, int]
    is_flipped: tuple[bool, bool, bool]
    canonical_shape: tuple[int, int, int]
    canonical_affine: npt.NDArray[np.float64]

    @property
    def canonical_spacing_mm(self) -> tuple[float, float, float]:
        """Voxel size along canonical axes 0, 1, 2 in millimetres."""
        return spacing_from_affine(self.canonical_affine)

    def source_view(self, canonical: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """A view of ``canonical`` indexed in source voxel order: writing to it fills the canonical grid."""
        flipped = canonical[tuple(slice(None, None, -1) if f else slice(None) for f in self.is_flipped)]
        axes = [0, 0, 0]
        for canonical_axis, source_axis in enumerate(self.source_axis_for):
            axes[source_axis] = canonical_axis
        return flipped.transpose(axes)

    def apply(self, source: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """A view of ``source`` in canonical order (negative strides where flipped; copy before sharing)."""
        permuted = source.transpose(self.source_axis_for)
        return permuted[tuple(slice(None, None, -1) if f else slice(None) for f in self.is_flipped)]


def canonical_transform(affine: npt.NDArray[np.float64], shape: tuple[int, ...]) -> CanonicalTransform:
    """The :class:`CanonicalTransform` of a grid of ``shape`` (voxel order) with voxel-to-RAS ``affine``."""
    import nibabel as nib

    orientation = nib.orientations.io_orientation(affine)
    transform = nib.orientations.ornt_transform(orientation, np.array([[0, 1], [1, 1], [2, 1]], dtype=float))
    new_affine = np.asarray(affine @ nib.orientations.inv_ornt_aff(transform, shape[:3]), dtype=np.float64)
    source_axis_for, is_flipped = [0, 0, 0], [False, False, False]
    for source_axis, (target_axis, direction) in enumerate(transform):
        source_axis_for[int(target_axis)] = source_axis
        is_flipped[int(target_axis)] = bool(direction < 0)
    return CanonicalTransform(
        source_axis_for=(source_axis_for[0], source_axis_for[1], source_axis_for[2]),
        is_flipped=(is_flipped[0], is_flipped[1], is_flipped[2]),
        canonical_shape=(int(shape[source_axis_for[0]]), int(shape[source_axis_for[1]]),
                         int(shape[source_axis_for[2]])),
        canonical_affine=new_affine,
    )


def to_canonical_ras(array: npt.NDArray[np.generic],
                     affine: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """Permute and flip ``array`` (voxel order, RAS ``affine``) to closest-canonical RAS+: one float32 copy."""
    transform = canonical_transform(affine, array.shape)
    return np.ascontiguousarray(transform.apply(array), dtype=np.float32), transform.canonical_affine


def open_nifti(path: Path) -> tuple[Nifti1Image | Nifti2Image, tuple[int, int, int]]:
    """The NIfTI image with only its header read, and its 3D shape (a 4th axis of length 1 dropped): what a
    file is can be checked before any voxel is decompressed.

    Raises:
        InputError: the path is a folder or missing, the file is not readable as NIfTI, or not one 3D volume.
    """
    import nibabel as nib

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; a NIfTI file (.nii or .nii.gz) is needed here.")
    if not path.is_file():
        raise InputError(f"{path} does not exist. Check the path.")
    try:
        image = nib.load(str(path))
        if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
            raise TypeError(f"{type(image).__name__} is not a NIfTI image")
    except Exception as err:  # nibabel raises many unrelated types for corrupt files
        raise InputError(f"{path} is not a readable NIfTI file ({type(err).__name__}: {err}).") from err
    shape = tuple(int(n) for n in image.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(f"{path} has shape {tuple(image.shape)}; one 3D volume is required.")
    return image, (shape[0], shape[1], shape[2])


def read_nifti(path: Path, *, orientation: VolumeOrientation, units: VolumeUnits = VolumeUnits.UNKNOWN) -> ImageVolume:
    """Read one 3D NIfTI volume (a 4th axis of length 1 is dropped), keeping its on-disk dtype.

    Args:
        path: a ``.nii`` or ``.nii.gz`` file.
        orientation: ``ON_DISK`` returns the stored array (no copy beyond the read);
            ``CANONICAL_RAS`` returns a contiguous copy permuted and flipped to closest-canonical RAS+.
        units: what the values mean (the file does not say).

    Raises:
        InputError: the file is missing, not readable as NIfTI, or not one 3D volume.
    """
    path = Path(path)
    image, shape = open_nifti(path)
    try:
        array = np.asanyarray(image.dataobj)
    except MemoryError:
        raise  # this machine's limit, not a fault of the file
    except Exception as err:
        raise InputError(f"{path} is not a readable NIfTI file ({type(err).__name__}: {err}).") from err
    array = array.reshape(shape)
    affine = np.asarray(image.affine, dtype=np.float64)
    if orientation is VolumeOrientation.CANONICAL_RAS:
        transform = canonical_transform(affine, array.shape)
        array, affine = np.ascontiguousarray(transform.apply(array)), transform.canonical_affine
    return ImageVolume(array=array, affine=affine, spacing_mm=spacing_from_affine(affine), units=units,
                       orientation=orientation, source_path=path)
