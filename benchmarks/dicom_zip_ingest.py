"""Uploaded DICOM ZIP -> HU volume on the real series: medskills vs dicom2nifti, SimpleITK and raw pydicom.

    /work/venv/bin/pip install SimpleITK dicom2nifti    # benchmark only, not a project dependency
    /work/venv/bin/python benchmarks/dicom_zip_ingest.py [--series DIR] [--repeats 5]

Every side starts from the same ZIP and extracts it into a fresh folder (the service's path):
medskills runs ``read_dicom_zip`` (safe inspection, headers once, selection, decode, HU, RAS);
SimpleITK and dicom2nifti read the extracted folder (their readers are shared with
``segmentation_dicom_read.py``); raw pydicom reads each file and decodes its pixels with no
checks, no sorting and no orientation: the floor. Prints median seconds and ratios (other /
medskills) from the same run as JSON and writes them to ``benchmarks/results/dicom_zip_ingest.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from segmentation_dicom_read import DEFAULT_SERIES, read_dicom2nifti, read_simpleitk

RESULTS = Path(__file__).resolve().parent / "results" / "dicom_zip_ingest.json"


def _zip(series: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(series.iterdir()):
            archive.write(path, path.name)
    return target


def ingest_medskills(archive: Path) -> tuple[int, ...]:
    from medskills.dicom import read_dicom_zip

    return read_dicom_zip(archive).volume.shape


def _extracted(reader: Callable[[Path], tuple[np.ndarray, np.ndarray]]) -> Callable[[Path], tuple[int, ...]]:
    def run(archive: Path) -> tuple[int, ...]:
        with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(archive) as handle:
            handle.extractall(folder)
            return reader(Path(folder))[0].shape

    return run


def _pydicom_floor(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    import pydicom

    slices = [pydicom.dcmread(path).pixel_array for path in sorted(folder.iterdir())]
    return np.stack(slices, axis=-1), np.eye(4)


def _median_seconds(run: Callable[[Path], tuple[int, ...]], archive: Path, repeats: int) -> float:
    run(archive)  # warm imports and plugin discovery
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(archive)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=Path, default=DEFAULT_SERIES)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        archive = _zip(arguments.series, Path(scratch) / "study.zip")
        sides = {"medskills": ingest_medskills, "pydicom_floor": _extracted(_pydicom_floor),
                 "simpleitk": _extracted(read_simpleitk), "dicom2nifti": _extracted(read_dicom2nifti)}
        seconds = {name: _median_seconds(run, archive, arguments.repeats) for name, run in sides.items()}
    report = {
        "series": str(arguments.series), "repeats": arguments.repeats,
        "median_seconds": {k: round(v, 4) for k, v in seconds.items()},
        "ratio_other_over_medskills": {k: round(v / seconds["medskills"], 2) for k, v in seconds.items()
                                       if k != "medskills"},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
