"""Study archives for the service tests: a synthetic chest series zipped, and the real series zipped."""

from __future__ import annotations

from pathlib import Path

from dicom_support.builders import chest_phantom, write_volume_series, zip_folder


def chest_zip(folder: Path) -> Path:
    """A ZIP of a synthetic chest series (80 slices, lungs over 180 mm) that passes the chest rules."""
    series = folder / "chest_series"
    series.mkdir(parents=True, exist_ok=True)
    write_volume_series(series, chest_phantom())
    return zip_folder(series, folder / "chest.zip")
