"""NIfTI I/O, geometry, intensity summaries and per-label statistics, each from one read of the file.

Label statistics take one ``np.bincount`` pass over the voxels, whatever the number of labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import Field

from medskills.core.errors import InputError
from medskills.core.image_volume import Geometry, ImageVolume, VolumeOrientation, geometry_of, read_nifti
from medskills.core.models import FrozenModel

__all__ = [
    "Geometry",
    "GeometryComparison",
    "IntensitySummary",
    "LabelStatistics",
    "LabelVolume",
    "LoadedVolume",
    "as_label_map",
    "compare_geometry",
    "geometry_of",
    "label_statistics",
    "read_volume",
    "summarize_intensity",
    "write_nifti",
]

AFFINE_TOLERANCE_MM = 1e-4
SPACING_TOLERANCE_MM = 1e-4
MAX_LABEL_ID = 65535
_CHUNK_VOXELS = 1 << 20
_INT32_MAX = int(np.iinfo(np.int32).max)


class GeometryComparison(FrozenModel):
    """How two grids differ: shapes, spacings (mm) and the largest affine difference (mm)."""

    is_shape_match: bool
    is_spacing_match: bool
    affine_max_abs_diff: float
    is_affine_match: bool

    @property
    def is_match(self) -> bool:
        """True when shape, spacing and affine all agree within tolerance."""
        return self.is_shape_match and self.is_spacing_match and self.is_affine_match


class IntensitySummary(FrozenModel):
    """Range and moments of the finite voxels, plus how many were not finite."""

    minimum: float | None
    maximum: float | None
    mean: float | None
    std: float | None
    nonfinite_voxels: int
    voxel_count: int

    @property
    def is_finite(self) -> bool:
        """True when every voxel is finite."""
        return self.nonfinite_voxels == 0

    @property
    def value_range(self) -> float:
        """max - min of the finite voxels (0 for an all-non-finite volume)."""
        if self.minimum is None or self.maximum is None:
            return 0.0
        return self.maximum - self.minimum


class LabelVolume(FrozenModel):
    """Voxel count and physical volume of one label id."""

    label_id: int
    voxel_count: int
    volume_ml: float


class LabelStatistics(FrozenModel):
    """Per-label voxel counts and volumes of a label map (background 0 excluded from ``labels``)."""

    label_ids_present: list[int]
    labels: list[LabelVolume]
    foreground_voxels: int
    background_voxels: int
    voxel_volume_ml: float = Field(description="Volume of one voxel in millilitres.")

    def by_id(self) -> dict[int, LabelVolume]:
        """Index the per-label entries by id."""
        return {entry.label_id: entry for entry in self.labels}


LoadedVolume = ImageVolume
"""The name older callers use for :class:`ImageVolume` read from a file (``.path``, ``.geometry``)."""


def read_volume(path: Path) -> ImageVolume:
    """Read a NIfTI file once, on-disk orientation and dtype (no float64 copy), units not stated.

    Raises:
        InputError: the file is missing or not readable as NIfTI, or is not 3D.
    """
    return read_nifti(Path(path), orientation=VolumeOrientation.ON_DISK)


def write_nifti(path: Path, array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]) -> Path:
    """Write a NIfTI file atomically (temporary name in the same folder, then rename)."""
    import os
    import tempfile

    import nibabel as nib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = ".nii.gz" if path.name.endswith(".nii.gz") else ".nii"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        nib.save(nib.Nifti1Image(array, affine), tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def _chunks(flat: npt.NDArray[np.generic]) -> Iterator[npt.NDArray[np.generic]]:
    """Consecutive slices of a 1-D array, sized to stay in cache-friendly memory."""
    for start in range(0, flat.size, _CHUNK_VOXELS):
        yield flat[start:start + _CHUNK_VOXELS]


def summarize_intensity(array: npt.NDArray[np.generic]) -> IntensitySummary:
    """Min, max, mean and std (population) over finite voxels.

    Works chunk by chunk with float64 accumulation (chunk moments merged exactly, Chan et al.), so a
    512^3 float32 volume needs neither a full float64 copy nor a full boolean mask.
    """
    flat = np.asarray(array).ravel(order="K")  # a view for C- or Fortran-ordered (NIfTI) arrays
    is_float = bool(np.issubdtype(flat.dtype, np.floating))
    count, nonfinite, mean, m2 = 0, 0, 0.0, 0.0
    minimum, maximum = np.inf, -np.inf
    for chunk in _chunks(flat):
        values = chunk.astype(np.float64)
        chunk_sum = float(values.sum())
        if is_float and not np.isfinite(chunk_sum):  # a NaN or inf is present (float64 cannot overflow here)
            finite = np.isfinite(values)
            nonfinite += int(values.size - np.count_nonzero(finite))
            values = values[finite]
            chunk_sum = float(values.sum())
        if values.size == 0:
            continue
        source = chunk if values.size == chunk.size else values
        minimum, maximum = min(minimum, float(source.min())), max(maximum, float(source.max()))
        chunk_mean = chunk_sum / values.size
        values -= chunk_mean
        chunk_m2 = float(np.einsum("i,i->", values, values))  # not np.dot: BLAS threads stall on busy hosts
        total = count + values.size
        delta = chunk_mean - mean
        mean += delta * values.size / total
        m2 += chunk_m2 + delta * delta * count * values.size / total
        count = total
    if count == 0:
        return IntensitySummary(minimum=None, maximum=None, mean=None, std=None, nonfinite_voxels=nonfinite,
                                voxel_count=int(flat.size))
    return IntensitySummary(minimum=minimum, maximum=maximum, mean=mean, std=float(np.sqrt(m2 / count)),
                            nonfinite_voxels=nonfinite, voxel_count=int(flat.size))


def as_label_map(array: npt.NDArray[np.generic], *, where: str) -> npt.NDArray[np.int32]:
    """Return an int32 label map; float labels must be integral (upstream saves labels as float32).

    Float input is rounded, checked and cast chunk by chunk into one int32 array (no float64 promotion).

    Raises:
        InputError: values are not integral, negative, or not finite.
    """
    values = np.asarray(array)
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)
            or values.dtype == np.bool_):
        raise InputError(f"{where}: a label map holds one whole number a voxel; this file holds {values.dtype} "
                         "values (a colour or complex image?). Save the labels as an integer image.")
    if np.issubdtype(values.dtype, np.integer) and np.iinfo(values.dtype).max > _INT32_MAX and values.size:
        smallest, largest = int(values.min()), int(values.max())
        if smallest < 0:
            raise InputError(f"{where}: label map has negative ids (min {smallest}); ids must be >= 0.")
        if largest > _INT32_MAX:
            raise InputError(f"{where}: label id {largest} is too large for a label id; check that the file is a "
                             "label map.")
    if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
        labels = values.astype(np.int32, copy=False)
    else:
        if not (values.flags.c_contiguous or values.flags.f_contiguous):
            values = np.ascontiguousarray(values)
        labels = np.empty_like(values, dtype=np.int32)  # same memory layout, so both ravel to views in step
        flat_labels = labels.ravel(order="K")
        start = 0
        for chunk in _chunks(values.ravel(order="K")):
            rounded = np.rint(chunk)
            if not np.array_equal(rounded, chunk):
                finite = np.isfinite(chunk)
                worst = float(np.abs(chunk[finite] - rounded[finite]).max()) if finite.all() else float("nan")
                raise InputError(f"{where}: label values are not integral (largest deviation {worst:g}). "
                                 "A label map must hold whole-number ids; check that the file is a label map.")
            if rounded.size and float(rounded.min()) < 0:
                raise InputError(f"{where}: label map has negative ids (min {float(rounded.min()):g}); ids must be "
                                 ">= 0.")
            if rounded.size and float(rounded.max()) > _INT32_MAX:
                raise InputError(f"{where}: label id {float(rounded.max()):g} is too large for a label id; check "
                                 "that the file is a label map.")
            flat_labels[start:start + chunk.size] = rounded
            start += chunk.size
    if labels.size and int(labels.min()) < 0:
        raise InputError(f"{where}: label map has negative ids (min {int(labels.min())}); ids must be >= 0.")
    return labels


def label_statistics(labels: npt.NDArray[np.integer], spacing_mm: tuple[float, float, float]) -> LabelStatistics:
    """Per-label voxel counts and mL in one ``np.bincount`` pass. ``labels`` must be non-negative ints."""
    voxel_volume_ml = float(np.prod(spacing_mm)) / 1000.0
    largest = int(labels.max()) if labels.size else 0
    if largest > MAX_LABEL_ID:
        raise InputError(f"label id {largest} exceeds {MAX_LABEL_ID}; this does not look like a label map.")
    counts = np.bincount(labels.ravel(order="K"))
    present = np.flatnonzero(counts)
    foreground_ids = [int(i) for i in present if i != 0]
    entries = [
        LabelVolume(label_id=i, voxel_count=int(counts[i]), volume_ml=round(float(counts[i]) * voxel_volume_ml, 4))
        for i in foreground_ids
    ]
    background = int(counts[0]) if counts.size else 0
    return LabelStatistics(
        label_ids_present=foreground_ids,
        labels=entries,
        foreground_voxels=int(labels.size) - background,
        background_voxels=background,
        voxel_volume_ml=voxel_volume_ml,
    )


def compare_geometry(
    left: Geometry, right: Geometry, *, spacing_tolerance_mm: float = SPACING_TOLERANCE_MM,
    affine_tolerance_mm: float = AFFINE_TOLERANCE_MM,
) -> GeometryComparison:
    """Compare two grids: shapes exactly, spacing and affine within tolerances (mm)."""
    spacing_diff = np.abs(np.subtract(left.spacing_mm, right.spacing_mm)).max()
    affine_diff = float(np.abs(np.subtract(left.affine, right.affine)).max())
    return GeometryComparison(
        is_shape_match=tuple(left.shape[:3]) == tuple(right.shape[:3]),
        is_spacing_match=bool(spacing_diff <= spacing_tolerance_mm),
        affine_max_abs_diff=round(affine_diff, 9),
        is_affine_match=affine_diff <= affine_tolerance_mm,
    )
