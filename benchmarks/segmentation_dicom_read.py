"""DICOM series -> HU volume for ../shared/data/ct_dicom_series: our reader vs SimpleITK and dicom2nifti.

    /work/venv/bin/pip install SimpleITK dicom2nifti    # benchmark only, not a project dependency
    /work/venv/bin/python benchmarks/segmentation_dicom_read.py [--series DIR] [--repeats 5]

Each side goes from the folder to a float HU array with its affine; the script checks every side gives
the same voxels on the same RAS grid, then prints median seconds and ratios from the same run as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

DEFAULT_SERIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "ct_dicom_series"
Volume = tuple[np.ndarray, np.ndarray]  # (array in closest-canonical RAS, RAS affine)


def _canonical(array: np.ndarray, affine: np.ndarray) -> Volume:
    import nibabel as nib

    image = nib.as_closest_canonical(nib.Nifti1Image(array, affine))
    return np.asarray(image.dataobj, dtype=np.float32), image.affine


def read_ours(folder: Path) -> Volume:
    from medskills.dicom import read_dicom_series

    volume = read_dicom_series(folder).volume
    return volume.array, volume.affine


def read_simpleitk(folder: Path) -> Volume:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    [series_id] = reader.GetGDCMSeriesIDs(str(folder))
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder), series_id))
    image = reader.Execute()
    array = sitk.GetArrayFromImage(image).transpose(2, 1, 0).astype(np.float32)
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.asarray(image.GetSpacing())
    affine[:3, 3] = image.GetOrigin()
    return _canonical(array, np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine)


def read_dicom2nifti(folder: Path) -> Volume:
    import dicom2nifti
    import nibabel as nib

    with tempfile.TemporaryDirectory() as scratch:
        target = str(Path(scratch) / "series.nii.gz")
        result = dicom2nifti.dicom_series_to_nifti(str(folder), target, reorient_nifti=False)
        image = nib.load(result["NII_FILE"])
        return _canonical(np.asarray(image.dataobj, dtype=np.float32), image.affine)


def _time(reader: Callable[[Path], Volume], folder: Path, repeats: int) -> tuple[float, Volume]:
    times, volume = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        volume = reader(folder)
        times.append(time.perf_counter() - start)
    assert volume is not None
    return statistics.median(times), volume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=Path, default=DEFAULT_SERIES)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    readers = {"medskills": read_ours, "simpleitk": read_simpleitk, "dicom2nifti": read_dicom2nifti}
    seconds, volumes = {}, {}
    for name, reader in readers.items():
        seconds[name], volumes[name] = _time(reader, arguments.series, arguments.repeats)
    ours_array, ours_affine = volumes["medskills"]
    agreement = {}
    for name in ("simpleitk", "dicom2nifti"):
        array, affine = volumes[name]
        is_same_grid = array.shape == ours_array.shape and bool(np.allclose(affine, ours_affine, atol=1e-3))
        agreement[name] = {"same_grid": is_same_grid,
                           "max_abs_hu_diff": float(np.abs(array - ours_array).max()) if is_same_grid else None}
    print(json.dumps({
        "series": str(arguments.series), "shape": list(ours_array.shape), "repeats": arguments.repeats,
        "median_seconds": {k: round(v, 4) for k, v in seconds.items()},
        "ratio_vs_medskills": {k: round(v / seconds["medskills"], 2) for k, v in seconds.items() if k != "medskills"},
        "agreement": agreement,
    }))


if __name__ == "__main__":
    main()
