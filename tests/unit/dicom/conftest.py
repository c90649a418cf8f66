"""Fixtures for the DICOM layer tests: a synthetic series folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicom_support.builders import write_series


@pytest.fixture
def series_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "series"
    folder.mkdir()
    write_series(folder)
    return folder
