"""Synthetic DICOM series, crafted ZIP archives and chest phantoms, generated inside tests."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medskills.dicom.volume import HUVolume

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
_SOP_CLASS_BY_MODALITY = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE}
# (column axis, row axis, slice axis) of the canonical RAS array; columns and rows run towards L and P / I
PLANE_AXES = {"axial": (0, 1, 2), "sagittal": (1, 2, 0), "coronal": (0, 2, 1)}


def write_series(
    folder: Path, *, slices: int = 24, rows: int = 24, columns: int = 20, pixel_spacing_mm: tuple[float, float] = (0.8, 0.7),
    slice_step_mm: float = 1.5, thickness_mm: float = 1.5, orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    study_uid: str = "1.2.3.4", series_uid: str = "1.2.3.4.1", image_type: Sequence[str] = ("ORIGINAL", "PRIMARY", "AXIAL"),
    kernel: str = "B70f", modality: str = "CT", skip: Sequence[int] = (), prefix: str = "slice",
    origin_mm: Sequence[float] = (-10.0, -20.0, -100.0), shear_mm_per_slice: float = 0.0,
) -> list[Path]:
    """Write one series, uncompressed, one file per slice; pixel k holds value 100*k + column index."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    row_dir = np.asarray(orientation[:3], dtype=float)
    col_dir = np.asarray(orientation[3:], dtype=float)
    normal = np.cross(row_dir, col_dir)
    paths = []
    for k in range(slices):
        if k in skip:
            continue
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        sop_uid = generate_uid(entropy_srcs=[series_uid, str(k)])
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE_STORAGE, sop_uid
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.Modality, ds.ImageType, ds.ConvolutionKernel = modality, list(image_type), kernel
        ds.PatientName, ds.PatientID = "Test^Patient", "PHI-12345"
        position = np.asarray(origin_mm, dtype=float) + normal * slice_step_mm * k + np.array([0, shear_mm_per_slice * k, 0])
        ds.ImagePositionPatient = [float(v) for v in position]
        ds.ImageOrientationPatient = [float(v) for v in orientation]
        ds.PixelSpacing = [pixel_spacing_mm[0], pixel_spacing_mm[1]]
        ds.SliceThickness = thickness_mm
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        pixels = (100 * k + np.arange(columns, dtype=np.int16)[None, :] + np.zeros((rows, 1), dtype=np.int16))
        ds.PixelData = pixels.astype(np.int16).tobytes()
        path = Path(folder) / f"{prefix}_{k:04d}.dcm"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


def zip_folder(folder: Path, zip_path: Path, *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Zip every file under ``folder`` with names relative to it."""
    with zipfile.ZipFile(zip_path, "w", compression=compression) as archive:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return zip_path


def zip_entries(zip_path: Path, entries: Sequence[tuple[str, bytes]], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A ZIP holding exactly ``entries`` (name, bytes)."""
    with zipfile.ZipFile(zip_path, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return zip_path


def corrupt_first_member(zip_path: Path) -> Path:
    """Flip bytes inside the deflated data of the ZIP's first member (its headers stay intact, as after a
    damaged transfer): reading that member fails in zlib or on its CRC."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.infolist()[0]
    data = bytearray(zip_path.read_bytes())
    name_length = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    for offset in range(start + 8, start + min(info.compress_size, 64)):
        data[offset] ^= 0xFF
    zip_path.write_bytes(bytes(data))
    return zip_path


def zip_with_symlink(zip_path: Path) -> Path:
    info = zipfile.ZipInfo("link.dcm")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(info, "/etc/passwd")
    return zip_path


def zip_with_encrypted_flag(zip_path: Path) -> Path:
    """A ZIP whose only entry has the 'encrypted' general-purpose flag set in both headers."""
    zip_entries(zip_path, [("secret.dcm", b"x" * 100)], compression=zipfile.ZIP_STORED)
    data = bytearray(zip_path.read_bytes())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 0x01
    data[central + 8] |= 0x01
    zip_path.write_bytes(bytes(data))
    return zip_path


def chest_phantom(*, slices: int = 80, lung_slices: tuple[int, int] = (10, 70), spacing_mm: float = 3.0,
                  seed: int = 0) -> HUVolume:
    """A body ellipse in air with two lung ellipsoids of aerated parenchyma (-850 HU +- noise)."""
    rng = np.random.default_rng(seed)
    size = 96
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    body = ((i - 48) / 44) ** 2 + ((j - 48) / 32) ** 2 <= 1
    array = np.full((size, size, slices), -1000.0, dtype=np.float32)
    array[body] = 40.0
    lo, hi = lung_slices
    for centre in (28, 68):
        lung = ((i - centre) / 14) ** 2 + ((j - 48) / 20) ** 2 <= 1
        region = array[:, :, lo:hi]
        region[lung] = -850.0 + rng.normal(0, 40, size=(int(lung.sum()), hi - lo)).astype(np.float32)
    affine = np.diag([spacing_mm, spacing_mm, spacing_mm, 1.0])
    return HUVolume(array=array, affine=affine, spacing_mm=(spacing_mm,) * 3, study_uid="phantom", series_uid="phantom.1")


def with_array(volume: HUVolume, array: np.ndarray) -> HUVolume:
    """``volume``'s geometry and spacing around another array (float32, contiguous)."""
    return HUVolume(array=np.ascontiguousarray(array, dtype=np.float32), affine=volume.affine,
                    spacing_mm=volume.spacing_mm, study_uid="s", series_uid="s.1")


def write_volume_series(folder: Path, volume: HUVolume, *, series_uid: str = "1.2.826.0.1.77.1",
                        study_uid: str = "1.2.826.0.1.77", kernel: str = "B70f") -> list[Path]:
    """Write a RAS HUVolume with a diagonal affine as one axial DICOM slice per axis-2 index."""
    import pydicom

    sx, sy, sz = volume.spacing_mm
    origin = volume.affine[:3, 3]
    columns, rows, slices = volume.shape
    paths = []
    for k in range(slices):
        ds = _slice_dataset(CT_IMAGE_STORAGE, study_uid=study_uid, series_uid=series_uid, index=k)
        ds.Modality, ds.ImageType, ds.ConvolutionKernel = "CT", ["ORIGINAL", "PRIMARY", "AXIAL"], kernel
        ds.PatientName, ds.PatientID = "Doe^Jane", "PHI-98765"
        # RAS axis 0 runs to patient right = LPS -x; axis 1 anterior = LPS -y
        ds.ImageOrientationPatient = [-1.0, 0.0, 0.0, 0.0, -1.0, 0.0]
        ds.ImagePositionPatient = [-float(origin[0]), -float(origin[1]), float(origin[2] + k * sz)]
        ds.PixelSpacing, ds.SliceThickness = [sy, sx], sz
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        stored = np.round(volume.array[:, :, k].T + 1024).astype(np.int16)
        ds.PixelData = stored.tobytes()
        path = Path(folder) / f"ct_{k:04d}.dcm"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


def write_nifti_as_series(folder: Path, nifti_path: Path, *, modality: str, plane: str = "axial",
                          series_uid: str = "1.2.826.0.1.88.1", study_uid: str = "1.2.826.0.1.88") -> list[Path]:
    """Write a real NIfTI scan as one DICOM slice per plane of ``plane``, as a scanner would store it.

    The scan is taken in closest-canonical RAS; each slice is a 2D cut across ``PLANE_AXES[plane]``,
    with columns running towards patient Left (or Posterior) and rows towards Posterior (or
    Inferior), the usual DICOM display orientation. Integral values are stored as int16 with slope 1
    (CT keeps its HU); the NIfTI must hold integral values in the int16 range. Simpler than a scanner:
    uncompressed, no private tags, one ImageType.
    """
    import nibabel as nib
    import pydicom

    image = nib.as_closest_canonical(nib.load(nifti_path))
    values = np.asarray(image.dataobj)
    if not np.array_equal(values, np.round(values)) or values.min() < -32768 or values.max() > 32767:
        raise ValueError(f"{nifti_path} does not hold int16-range integers")
    column_axis, row_axis, slice_axis = PLANE_AXES[plane]
    pixels = values.transpose(slice_axis, row_axis, column_axis)[:, ::-1, ::-1].astype(np.int16)
    affine = image.affine
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    ras_to_lps = np.array([-1.0, -1.0, 1.0])
    row_direction = -affine[:3, column_axis] / spacing[column_axis] * ras_to_lps
    column_direction = -affine[:3, row_axis] / spacing[row_axis] * ras_to_lps
    sop_class = _SOP_CLASS_BY_MODALITY[modality]
    paths = []
    for k in range(pixels.shape[0]):
        corner = np.zeros(3)
        corner[column_axis], corner[row_axis] = values.shape[column_axis] - 1, values.shape[row_axis] - 1
        corner[slice_axis] = k
        position = (affine @ np.append(corner, 1.0))[:3] * ras_to_lps
        ds = _slice_dataset(sop_class, study_uid=study_uid, series_uid=series_uid, index=k)
        ds.Modality, ds.ImageType = modality, ["ORIGINAL", "PRIMARY", plane.upper()]
        ds.PatientName, ds.PatientID = "Doe^John", "PHI-24680"
        ds.ImageOrientationPatient = [float(v) for v in (*row_direction, *column_direction)]
        ds.ImagePositionPatient = [float(v) for v in position]
        ds.PixelSpacing = [float(spacing[row_axis]), float(spacing[column_axis])]
        ds.SliceThickness = float(spacing[slice_axis])
        ds.Rows, ds.Columns = pixels.shape[1], pixels.shape[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        if modality == "CT":
            ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.PixelData = np.ascontiguousarray(pixels[k]).tobytes()
        path = Path(folder) / f"{plane}_{k:04d}.dcm"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


def _slice_dataset(sop_class: str, *, study_uid: str, series_uid: str, index: int) -> Any:
    """An uncompressed (explicit VR little endian) instance with its UIDs; the caller adds the image."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    sop_uid = generate_uid(entropy_srcs=[series_uid, str(index)])
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID, dataset.SOPInstanceUID = sop_class, sop_uid
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study_uid, series_uid
    dataset.FrameOfReferenceUID = generate_uid(entropy_srcs=[study_uid, "frame of reference"])
    return dataset
