"""Fixtures on the real DICOM series: the series zipped as uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicom_support.builders import zip_folder


@pytest.fixture(scope="module")
def real_series_zip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return zip_folder(shared_data / "ct_dicom_series", tmp_path_factory.mktemp("real") / "study.zip")
