"""``output.json``, ``manifest.json`` and ``validation_summary.json`` in the reference skill's key shape.

Verifiers written for the reference wrapper read these three files from the output folder. The key
names are theirs and are kept verbatim; the values are ours (recomputed, with the expanded prompt set
and the modality set in everything mode, so their label-set checks compare the right ids).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from medskills.core.io import write_json_atomic
from medskills.core.models import DISCLAIMER, FrozenModel, Status
from medskills.segmentation.models import SKILL_ID, SegmentationRunRecord

__all__ = ["REFERENCE_SKILL_ID", "write_reference_pack"]

REFERENCE_SKILL_ID = "nv_segment_ctmr"
MODEL_NAME = "NVIDIA-Medtech/NV-Segment-CTMR (VISTA3D CT/MRI)"
MODEL_REPO = "https://github.com/NVIDIA-Medtech/NV-Segment-CTMR"
LICENCE_TEXT = "Wrapper Apache-2.0; upstream model and repository licenses apply."


class _Geometry(FrozenModel):
    input_shape: list[int]
    output_shape: list[int] | None
    shape_match: bool
    input_spacing: list[float]
    output_spacing: list[float] | None
    spacing_match: bool
    affine_max_abs_diff: float | None
    affine_match: bool


class _Output(FrozenModel):
    path: str | None
    shape: list[int] | None
    label_prompts_requested: list[int] | None
    label_ids_present: list[int]
    unexpected_label_ids: list[int]
    label_set_valid: bool
    label_map_loaded: bool
    label_map_source: str
    class_counts: dict[str, int]
    voxel_volume_ml: float | None
    class_volumes_ml: dict[str, float]
    any_label_present: bool
    geometry: _Geometry


class _Input(FrozenModel):
    path: str
    shape: list[int] | None
    ndim: int | None
    spacing: list[float] | None
    modality: str
    ground_truth_path: str | None


class _Inventory(FrozenModel):
    model_pt_present: bool
    model_pt_path: str
    label_map_present: bool
    mask_path: str


class _Invocation(FrozenModel):
    official_entrypoint: str = "python -m monai.bundle run"
    upstream_root: str
    upstream_commit: str
    config_file: str = "configs/inference.json"
    output_dir: str
    modality: str
    label_prompts: list[int] | None
    command: list[str]
    exit_code: int | None
    model_inventory: _Inventory


class _Runtime(FrozenModel):
    subprocess_seconds: float
    device: str


class _Logs(FrozenModel):
    stdout_tail: str
    stderr_tail: str


class ReferenceOutput(FrozenModel):
    """The reference wrapper's stdout JSON, key for key."""

    skill: str = REFERENCE_SKILL_ID
    model: str = MODEL_NAME
    model_repo: str = MODEL_REPO
    license: str = LICENCE_TEXT
    intended_use_disclaimer: str = DISCLAIMER
    input: _Input
    output: _Output
    invocation: _Invocation
    runtime: _Runtime
    logs: _Logs


class _Manifest(FrozenModel):
    run_id: str
    skill_id: str = REFERENCE_SKILL_ID
    skill_version: str
    medskills_skill: str = SKILL_ID


class _ValidationSummary(FrozenModel):
    overall_status: str
    failed_gates: list[str] = Field(default_factory=list)


def write_reference_pack(record: SegmentationRunRecord, *, version: str) -> Path:
    """Write the three reference-shaped files into the record's output folder; returns ``output.json``."""
    folder = Path(record.output_dir)
    path = write_json_atomic(folder / "output.json", build_reference_output(record))
    write_json_atomic(folder / "manifest.json", _Manifest(run_id=folder.name, skill_version=version))
    failed = [gate.gate for gate in record.gates if gate.status == Status.FAILED]
    status = "passed" if record.status == Status.PASSED else "failed"
    write_json_atomic(folder / "validation_summary.json",
                      _ValidationSummary(overall_status=status, failed_gates=failed))
    return path


def build_reference_output(record: SegmentationRunRecord) -> ReferenceOutput:
    """Map our record onto the reference keys (names unchanged, values recomputed by us)."""
    plan, output, invocation = record.plan, record.output, record.invocation
    assert plan is not None and plan.input is not None and plan.prompts is not None and output is not None
    geometry = plan.input.geometry
    comparison = output.geometry
    names = {entry.label_id: entry.name for entry in output.classes}
    model_present = any(w.is_present for w in (record.provenance.weights if record.provenance else []))
    return ReferenceOutput(
        input=_Input(path=str(plan.input.path), shape=list(geometry.shape), ndim=len(geometry.shape),
                     spacing=[round(s, 6) for s in geometry.spacing_mm], modality=record.request.modality,
                     ground_truth_path=_optional_text(record.request.ground_truth_path)),
        output=_Output(
            path=str(output.mask_path) if output.mask_path else None,
            shape=list(geometry.shape) if comparison and comparison.is_shape_match else None,
            label_prompts_requested=plan.prompts.allowed_output_ids,
            label_ids_present=output.label_ids_present, unexpected_label_ids=output.unexpected_label_ids,
            label_set_valid=comparison is not None and not output.unexpected_label_ids,
            label_map_loaded=True, label_map_source=plan.bundle.label_dictionary_source,
            class_counts={names[c.label_id]: c.voxel_count for c in output.classes},
            voxel_volume_ml=output.voxel_volume_ml,
            class_volumes_ml={names[c.label_id]: c.volume_ml for c in output.classes},
            any_label_present=bool(output.label_ids_present),
            geometry=_Geometry(
                input_shape=list(geometry.shape), output_shape=list(geometry.shape) if comparison else None,
                shape_match=bool(comparison and comparison.is_shape_match),
                input_spacing=[round(s, 6) for s in geometry.spacing_mm],
                output_spacing=[round(s, 6) for s in geometry.spacing_mm] if comparison else None,
                spacing_match=bool(comparison and comparison.is_spacing_match),
                affine_max_abs_diff=comparison.affine_max_abs_diff if comparison else None,
                affine_match=bool(comparison and comparison.is_affine_match)),
        ),
        invocation=_Invocation(
            upstream_root=str(plan.bundle.root), upstream_commit=(record.provenance.upstream_commit or "")
            if record.provenance else "", output_dir=str(record.output_dir), modality=record.request.modality,
            label_prompts=None if plan.prompts.is_everything else plan.prompts.expanded_ids,
            command=invocation.argv if invocation else [], exit_code=invocation.exit_code if invocation else None,
            model_inventory=_Inventory(model_pt_present=model_present, model_pt_path=str(plan.bundle.model_path),
                                       label_map_present=True, mask_path=plan.bundle.label_dictionary_source)),
        runtime=_Runtime(subprocess_seconds=invocation.runtime_seconds if invocation else 0.0, device=plan.device),
        logs=_Logs(stdout_tail=invocation.logs.stdout_tail if invocation else "",
                   stderr_tail=invocation.logs.stderr_tail if invocation else ""),
    )


def _optional_text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
