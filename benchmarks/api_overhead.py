"""Per-request overhead of the triage API, predictor time excluded, on a synthetic chest DICOM ZIP.

    /work/venv/bin/python benchmarks/api_overhead.py [--requests 30]

Starts the real app under uvicorn on 127.0.0.1 (a free port, in this process) with an instant
predictor defined here, posts the same ZIP ``--requests`` times, and compares the median wall time
with the same work called directly (``read_dicom_zip`` + ``validate_chest``). The difference is
the service's overhead (multipart upload, copy to disk, queue hand-off, JSON). ``GET /health``
gives the bare HTTP round trip. Writes ``benchmarks/results/api_overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "api_overhead.json"


class InstantPredictor:
    """Answers at once, so the timings hold no model time."""

    model_version = "benchmark"
    members_available = ["instant"]
    members_unavailable: list[object] = []

    def predict(self, volume, *, inputs=None):  # type: ignore[no-untyped-def]
        from medskills.triage.pack_manifest import FittedOn, StackerProvenance
        from medskills.triage.prediction import TriagePrediction

        return TriagePrediction(probability_of_pathology=0.5, pathology=0, threshold=0.6, model_version="benchmark",
                                stacker_provenance=StackerProvenance.SYNTHETIC, members_available=["instant"],
                                fitted_on=FittedOn(description="a fixed benchmark answer, generated", study_count=1))


def _chest_zip(folder: Path) -> Path:
    """A 96x96x80 chest-like series at 3 mm (lungs over 180 mm), written as DICOM and zipped."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    i, j = np.meshgrid(np.arange(96), np.arange(96), indexing="ij")
    body = ((i - 48) / 44) ** 2 + ((j - 48) / 32) ** 2 <= 1
    lungs = (((i - 28) / 14) ** 2 + ((j - 48) / 20) ** 2 <= 1) | (((i - 68) / 14) ** 2 + ((j - 48) / 20) ** 2 <= 1)
    archive = folder / "chest.zip"
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        for k in range(80):
            hu = np.where(body, 40.0, -1000.0)
            if 10 <= k < 70:
                hu = np.where(lungs, -850.0 + rng.normal(0, 40, hu.shape), hu)
            meta = FileMetaDataset()
            uid = generate_uid()
            meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", uid
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.2.840.10008.5.1.4.1.1.2", uid, "CT"
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.ImageType = "1.2.3", "1.2.3.4", ["ORIGINAL", "PRIMARY"]
            ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 3.0 * k]
            ds.PixelSpacing, ds.SliceThickness, ds.Rows, ds.Columns = [3, 3], 3, 96, 96
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
            ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
            ds.PixelData = np.round(hu.T + 1024).astype(np.int16).tobytes()
            path = folder / f"{k:03d}.dcm"
            pydicom.dcmwrite(path, ds, enforce_file_format=True)
            handle.write(path, path.name)
    return archive


def _direct_seconds(archive: Path, requests: int) -> float:
    from medskills.dicom import read_dicom_zip
    from medskills.triage.chest import validate_chest

    times = []
    for _ in range(requests):
        start = time.perf_counter()
        validate_chest(read_dicom_zip(archive).volume)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _api_seconds(archive: Path, requests: int) -> tuple[float, float]:
    import httpx
    import uvicorn

    from medskills.triage.api import ServiceSettings, create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ServiceSettings(), predictor=InstantPredictor()),
                                           host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(100):
                if server.started:
                    break
                time.sleep(0.1)
            payload = archive.read_bytes()
            health, predict = [], []
            for _ in range(requests):
                start = time.perf_counter()
                client.get("/health").raise_for_status()
                health.append(time.perf_counter() - start)
                start = time.perf_counter()
                client.post("/predict", files={"file": ("chest.zip", payload)}).raise_for_status()
                predict.append(time.perf_counter() - start)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return statistics.median(predict), statistics.median(health)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        archive = _chest_zip(Path(scratch))
        direct = _direct_seconds(archive, arguments.requests)
        api, health = _api_seconds(archive, arguments.requests)
        size = archive.stat().st_size
    report = {
        "requests": arguments.requests, "zip_bytes": size,
        "median_seconds": {"direct_library": round(direct, 4), "api_predict": round(api, 4),
                           "api_health": round(health, 4)},
        "overhead_seconds_per_request": round(api - direct, 4),
        "ratio_api_over_direct": round(api / direct, 2),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
