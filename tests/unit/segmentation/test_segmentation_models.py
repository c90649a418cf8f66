"""The segmentation request as typed on the command line: --output-type converts once, at the boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.core.errors import UsageError
from medskills.segmentation.models import OutputType, SegmentationRequest

_FIELDS = {"image_path": Path("ct.nii.gz"), "modality": "CT_BODY", "output_dir": Path("out")}


def test_no_output_type_leaves_the_choice_to_the_input_kind() -> None:
    assert SegmentationRequest.from_cli(output_type=None, **_FIELDS).output_type is None


def test_an_output_type_value_becomes_the_member() -> None:
    assert SegmentationRequest.from_cli(output_type="dicom-seg", **_FIELDS).output_type is OutputType.DICOM_SEG


def test_a_near_miss_is_a_usage_error_with_the_choices_and_the_suggestion() -> None:
    with pytest.raises(UsageError) as caught:
        SegmentationRequest.from_cli(output_type="dicomseg", **_FIELDS)
    message = str(caught.value)
    assert message.startswith("--output-type 'dicomseg' is not one of nifti, dicom-seg, both.")
    assert "Did you mean 'dicom-seg'" in message


def test_a_zero_timeout_is_refused() -> None:
    with pytest.raises(ValidationError, match="timeout_seconds"):
        SegmentationRequest.from_cli(output_type=None, timeout_seconds=0, **_FIELDS)
