"""Builders for synthetic DICOM series, crafted ZIP archives and chest phantoms (tests only)."""
