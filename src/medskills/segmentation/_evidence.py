"""Evidence of a segmentation run: per-class volumes, the crop-aware window count, the summary card."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.card import CardPanel, CardTable, write_card
from medskills.core.models import Status
from medskills.segmentation import bundle as bundle_files
from medskills.segmentation._input import LoadedInput
from medskills.segmentation.labels import SegmentationLabels, SegmentationModality
from medskills.segmentation.models import (
    ClassVolume,
    DicomSegSummary,
    SegmentationOutput,
    SegmentationPlan,
    SegmentationRunRecord,
    StageTimings,
)
from medskills.segmentation.postchecks import PostRunContext

__all__ = ["build_output", "render_card", "windows_after_crop"]

CROP_MARGIN_VOXELS = 10  # CropForegroundd margin, in voxels at the model spacing
CT_WINDOW_HU = (-200.0, 250.0)


def windows_after_crop(
    array: npt.NDArray[np.generic], *, spacing_mm: tuple[float, float, float],
    model_spacing_mm: tuple[float, float, float], patch_size: tuple[int, int, int],
) -> int:
    """Windows over the box the bundle really tiles: voxels > 0 plus its 10-voxel margin, at model spacing."""
    foreground = np.asarray(array) > 0
    extents = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(foreground.any(axis=others))
        size_mm = (present[-1] - present[0] + 1) * spacing_mm[axis] if present.size else 0.0
        full_mm = foreground.shape[axis] * spacing_mm[axis]
        voxels = math.ceil(size_mm / model_spacing_mm[axis]) + 2 * CROP_MARGIN_VOXELS
        extents.append(max(1, min(voxels, math.ceil(full_mm / model_spacing_mm[axis]))))
    return bundle_files.window_count((extents[0], extents[1], extents[2]), patch_size)


def build_output(
    *, plan: SegmentationPlan, labels: SegmentationLabels, context: PostRunContext, loaded: LoadedInput,
    mask_path: Path | None, dicom_seg: DicomSegSummary | None, timings: dict[str, float], bundle_output_path: Path,
) -> SegmentationOutput:
    """Assemble the typed output section from the post-run context (no second pass over the volume)."""
    assert plan.modality is not None
    statistics = context.statistics
    classes = [ClassVolume(label_id=entry.label_id, name=labels.name_of(entry.label_id), voxel_count=entry.voxel_count,
                           volume_ml=entry.volume_ml) for entry in (statistics.labels if statistics else [])]
    present = statistics.label_ids_present if statistics else []
    return SegmentationOutput(
        modality=plan.modality, bundle_output_path=bundle_output_path,
        mask_path=mask_path or (bundle_output_path if context.is_output_present else None),
        dicom_seg=dicom_seg, label_ids_present=present,
        unexpected_label_ids=sorted(set(present) - set(context.allowed_ids)), classes=classes,
        voxel_volume_ml=statistics.voxel_volume_ml if statistics else None, geometry=context.geometry,
        windows_after_crop=windows_after_crop(loaded.array, spacing_mm=loaded.geometry.spacing_mm,
                                              model_spacing_mm=plan.bundle.resample_spacing_mm,
                                              patch_size=plan.bundle.patch_size),
        timings=StageTimings(**timings),
    )


def render_card(
    record: SegmentationRunRecord, *, loaded: LoadedInput, labels: npt.NDArray[np.integer] | None
) -> tuple[Path | None, str | None]:
    """The HTML card: triptych of the input with the label overlay, classes, gates. Never raises."""
    plan, output = record.plan, record.output
    assert plan is not None and output is not None
    is_ct = plan.modality is SegmentationModality.CT_BODY
    caption = f"{plan.modality} · {len(output.classes)} classes"
    panel = CardPanel(title="input with labels", image=loaded.array, affine=loaded.affine, label=labels,
                      window=CT_WINDOW_HU if is_ct else None, caption=caption,
                      label_names={c.label_id: c.name for c in output.classes})
    class_rows = [[str(c.label_id), c.name, str(c.voxel_count), f"{c.volume_ml:.1f}"] for c in output.classes]
    gate_rows = [[gate.gate, gate.status.value, gate.message] for gate in record.gates]
    estimate = plan.memory.windows_estimated if plan.memory else None
    run_rows = [["device", plan.device], ["bundle", f"{plan.bundle.root} (version {plan.bundle.version})"],
                ["windows estimated / after crop", f"{estimate} / {output.windows_after_crop}"],
                ["upstream seconds", f"{output.timings.upstream_seconds:.1f}"]]
    status = "passed" if all(g.status != Status.FAILED for g in record.gates) else "failed"
    return write_card(
        Path(record.output_dir) / "summary.html", title="NV-Segment-CTMR segmentation",
        subtitle=str(record.request.image_path), status=status, panels=[panel],
        tables=[CardTable(title="classes", header=["id", "name", "voxels", "mL"], rows=class_rows),
                CardTable(title="gates", header=["gate", "status", "message"], rows=gate_rows),
                CardTable(title="run", rows=run_rows)],
    )
