"""GeneratedFile: the identity and read-back record every generated mask and image record starts with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.synthesis.nv_generate.generated_file import GeneratedFile

SHA256 = "ab" * 32


def test_a_readable_file_round_trips_through_json_with_its_shape_and_spacing() -> None:
    record = GeneratedFile(path=Path("out/sample_0_image.nii.gz"), bytes=1024, sha256=SHA256, is_readable=True,
                           shape=(256, 256, 128), spacing_mm=(1.5, 1.5, 2.0))
    document = json.loads(record.model_dump_json())
    assert document["path"] == "out/sample_0_image.nii.gz" and document["spacing_mm"] == [1.5, 1.5, 2.0]
    assert GeneratedFile.model_validate_json(record.model_dump_json()) == record


def test_an_unreadable_file_keeps_its_identity_and_the_error_without_geometry() -> None:
    record = GeneratedFile(path=Path("broken.nii.gz"), bytes=17, sha256=SHA256, is_readable=False,
                           error="not a gzip file")
    assert (record.error, record.shape, record.spacing_mm) == ("not a gzip file", None, None)


def test_shape_keeps_any_number_of_axes_but_spacing_needs_exactly_three() -> None:
    four_d = GeneratedFile(path=Path("v.nii.gz"), bytes=1, sha256=SHA256, is_readable=True, shape=(8, 8, 8, 2))
    assert four_d.shape == (8, 8, 8, 2)
    with pytest.raises(ValidationError, match="spacing_mm"):
        GeneratedFile(path=Path("v.nii.gz"), bytes=1, sha256=SHA256, is_readable=True, spacing_mm=(1.0, 1.0))


@pytest.mark.parametrize("missing", ["path", "bytes", "sha256", "is_readable"])
def test_the_identity_fields_are_required(missing: str) -> None:
    fields = {"path": "v.nii.gz", "bytes": 1, "sha256": SHA256, "is_readable": True}
    del fields[missing]
    with pytest.raises(ValidationError, match=missing):
        GeneratedFile.model_validate(fields)


def test_an_unknown_field_is_refused_and_a_record_cannot_be_changed() -> None:
    with pytest.raises(ValidationError, match="spacing"):
        GeneratedFile.model_validate({"path": "v.nii.gz", "bytes": 1, "sha256": SHA256, "is_readable": True,
                                      "spacing": [1.0, 1.0, 1.0]})
    record = GeneratedFile(path=Path("v.nii.gz"), bytes=1, sha256=SHA256, is_readable=True)
    with pytest.raises(ValidationError, match="frozen"):
        record.is_readable = False
