"""Put real studies on the test server with STOW-RS, and silent sockets for timeout tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from medskills.dicom.web import DicomWebServer, DicomWebSettings

from dicomweb_support.orthanc import OrthancServer

if TYPE_CHECKING:
    from pydicom import Dataset


def settings_for(orthanc: OrthancServer, **overrides: object) -> DicomWebSettings:
    """Settings that reach the private server as the test user (fast retries for tests)."""
    values: dict[str, object] = {"url": orthanc.dicomweb_url, "username": orthanc.auth[0],
                                 "password": orthanc.auth[1], "timeout_seconds": 10.0, "max_attempts": 2,
                                 "backoff_seconds": 0.05}
    values.update(overrides)
    return DicomWebSettings(**values)  # type: ignore[arg-type]


def read_series_for_pacs(folder: Path) -> list[Dataset]:
    """Read a DICOM folder and fill the identifying UIDs its de-identification left empty.

    ``../shared/data/ct_dicom_series`` has empty StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID
    and SOPClassUID (only the file meta keeps the SOP UIDs); no PACS accepts such instances. The SOP
    UIDs come back from the file meta, the study, series and frame-of-reference UIDs (the test
    builder's chest series has none of the latter) are derived from the folder's name, so every run
    stores the same UIDs. UIDs already present are kept.
    """
    import pydicom
    from pydicom.uid import generate_uid

    datasets = [pydicom.dcmread(path) for path in sorted(folder.rglob("*")) if path.is_file()]
    study_uid = generate_uid(entropy_srcs=["medskills-test-study", folder.name])
    series_uid = generate_uid(entropy_srcs=["medskills-test-series", folder.name])
    frame_of_reference = generate_uid(entropy_srcs=["medskills-test-frame", folder.name])
    for dataset in datasets:
        dataset.SOPInstanceUID = dataset.get("SOPInstanceUID") or dataset.file_meta.MediaStorageSOPInstanceUID
        dataset.SOPClassUID = dataset.get("SOPClassUID") or dataset.file_meta.MediaStorageSOPClassUID
        dataset.StudyInstanceUID = dataset.get("StudyInstanceUID") or study_uid
        dataset.SeriesInstanceUID = dataset.get("SeriesInstanceUID") or series_uid
        dataset.FrameOfReferenceUID = dataset.get("FrameOfReferenceUID") or frame_of_reference
    return datasets


def store_folder(orthanc: OrthancServer, folder: Path) -> tuple[str, str, int]:
    """STOW-RS every file under ``folder``; returns (StudyInstanceUID, SeriesInstanceUID, count)."""
    datasets = read_series_for_pacs(folder)
    DicomWebServer(settings_for(orthanc)).store(datasets)
    return str(datasets[0].StudyInstanceUID), str(datasets[0].SeriesInstanceUID), len(datasets)


@contextmanager
def silent_server() -> Iterator[str]:
    """A loopback HTTP port that accepts connections and never answers: a server that hangs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/dicom-web"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        listener.close()
