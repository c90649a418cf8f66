"""DICOMweb fixtures: one private Orthanc per test module (module scope keeps CI time modest), and the real
CT series. Test modules import the fixtures they use by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dicomweb_support.orthanc import OrthancServer, orthanc_missing_reason, running_orthanc
from dicomweb_support.studies import store_folder


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """A running private Orthanc with the DICOMweb plugin and authentication on; stopped afterwards."""
    reason = orthanc_missing_reason()
    if reason:
        pytest.skip(reason)
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture()
def dicomweb_environment(monkeypatch: pytest.MonkeyPatch, orthanc: OrthancServer) -> OrthancServer:
    """Point the MEDSKILLS_DICOMWEB_* variables at the private server with the right credentials."""
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_URL", orthanc.dicomweb_url)
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_USERNAME", orthanc.auth[0])
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_PASSWORD", orthanc.auth[1])
    return orthanc


@pytest.fixture(scope="module")
def ct_series_dir(shared_data: Path) -> Path:
    """The 20 real CT slices of ``../shared/data/ct_dicom_series``."""
    folder = shared_data / "ct_dicom_series"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder


@pytest.fixture(scope="module")
def stored_ct(orthanc: OrthancServer, ct_series_dir: Path) -> tuple[str, str, int]:
    """The real 20-slice CT series, stored once per module with STOW-RS: (study UID, series UID, count)."""
    return store_folder(orthanc, ct_series_dir)
