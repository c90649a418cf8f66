"""The fields the verifiers read exist in the records the skills write (checked on their JSON schemas).

Capabilities never import each other, so the verifiers read ``result.json`` through their own input
models; this test is where a rename in a skill's record shows up.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from medskills.segmentation.models import SegmentationRunRecord
from medskills.synthesis.paired_ct.record import CTSynthesisRecord
from medskills.synthesis.mr_brain.record import MRBrainRecord

READ_PATHS: dict[type[BaseModel], list[str]] = {
    CTSynthesisRecord: [
        "skill", "status", "artifacts[].path", "artifacts[].sha256", "output.samples[].image_path",
        "output.samples[].label_path", "output.output_label_mapping[].anatomy",
        "output.output_label_mapping[].maisi_label_id", "output.output_label_mapping[].output_label_id",
        "output.is_all_pairs_readable", "output.is_all_geometry_consistent", "output.has_any_foreground",
        "output.is_all_images_nonconstant", "output.is_all_images_hu_like", "output.is_all_expected_labels_present",
    ],
    MRBrainRecord: [
        "skill", "status", "artifacts[].sha256", "request.modality_name", "request.dim_requested",
        "request.spacing_requested_mm", "output.samples[].path", "output.all_images_readable",
        "output.all_shapes_match_requested", "output.all_spacing_match_requested", "output.all_images_finite",
        "output.all_images_nonconstant", "output.all_images_nonnegative",
    ],
    SegmentationRunRecord: [
        "skill", "status", "artifacts[].sha256", "request.image_path", "request.modality",
        "request.ground_truth_path", "plan.prompts.requested_ids", "output.mask_path", "output.bundle_output_path",
        "output.label_space", "output.label_ids_present",
    ],
}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap ``anyOf`` (optional fields) to the object or array node."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            node = next(option for option in node["anyOf"] if option.get("type") != "null")
        else:
            return node


def _has_path(schema: dict[str, Any], path: str) -> bool:
    node = schema
    for part in path.split("."):
        is_list = part.endswith("[]")
        node = _resolve(schema, node).get("properties", {}).get(part.removesuffix("[]"))
        if node is None:
            return False
        if is_list:
            node = _resolve(schema, node)["items"]
    return True


@pytest.mark.parametrize("record", list(READ_PATHS), ids=lambda record: record.__name__)
def test_every_field_the_verifier_reads_is_written_by_the_skill(record: type[BaseModel]) -> None:
    schema = record.model_json_schema()
    missing = [path for path in READ_PATHS[record] if not _has_path(schema, path)]
    assert missing == []


def test_the_contract_check_fires_on_a_renamed_field() -> None:
    schema = SegmentationRunRecord.model_json_schema()
    assert not _has_path(schema, "output.prediction_mask")
    assert not _has_path(schema, "request.image")
