"""DICOM and NIfTI study ingestion: safe ZIP extraction, series selection, HU volume assembly."""

from medskills.dicom.volume import HUVolume

__all__ = ["HUVolume"]
