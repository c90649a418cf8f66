"""Segment one CT/MR volume with NV-Segment-CTMR: preflight, one bundle run, post-checks, evidence, outputs.

The flow never trusts the bundle's exit code alone (it exits 0 without output when its loader fails),
never overwrites an output folder, writes ``result.json`` on every path, and converts a DICOM series
to NIfTI exactly once, inside the output folder.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medskills.core.errors import ExitCode, GateFailure, InputError
from medskills.core.models import Artifact, GateResult, Invocation, Status, utc_now
from medskills.core.provenance import DeviceInfo, collect_provenance, detect_device, weight_inventory
from medskills.core.plan_card import PlanCard
from medskills.core.records import file_artifact
from medskills.core.run import PreparedRun, RunOptions, run_command
from medskills.core.settings import Settings
from medskills.core.upstream import Runner, UpstreamCommand, build_environment, run_upstream
from medskills.core.image_volume import ImageVolume, VolumeOrientation, VolumeUnits
from medskills.core.volumes import (
    as_label_map,
    compare_geometry,
    label_statistics,
    read_volume,
    write_nifti,
)
from medskills.segmentation import bundle as bundle_files
from medskills.segmentation._evidence import build_output, render_card
from medskills.segmentation._input import LoadedInput
from medskills.segmentation.brain_preprocess.bundle_input import (
    PreparedBrainInput,
    prepare_brain_input,
    revert_label_file,
)
from medskills.segmentation.dicom_seg import read_seg_sources, write_dicom_seg
from medskills.segmentation.models import (
    DicomSegSummary,
    InputKind,
    OutputType,
    SegmentationOutput,
    SegmentationRequest,
    SegmentationRunRecord,
)
from medskills.segmentation.postchecks import LATERAL_PAIRS, PostRunContext, centroid_x_ras, evaluate_gates
from medskills.segmentation.preflight import (
    MemoryProbe,
    PreflightOutcome,
    preflight_segmentation,
    probe_available_memory,
)
from medskills.segmentation.reference_pack import write_reference_pack

__all__ = ["segment_ctmr"]

logger = logging.getLogger(__name__)

SKILL_VERSION = "0.1.0"


@dataclass(frozen=True)
class _LabelMap:
    """The bundle output as read once: int32 labels (or why not), its affine, its geometry comparison."""

    labels: np.ndarray | None
    affine: np.ndarray | None
    context: PostRunContext


def segment_ctmr(
    request: SegmentationRequest, *, settings: Settings, runner: Runner = run_upstream,
    device_info: DeviceInfo | None = None, memory_probe: MemoryProbe = probe_available_memory,
) -> SegmentationRunRecord:
    """Run the whole skill and return the record (also ``OUT/result.json`` on every outcome, ``core.run``).

    Raises:
        UsageError: ``--output-dir`` is refused (nothing is written then).
    """
    options = RunOptions(output_dir=request.output_dir, is_preflight_only=request.is_preflight_only,
                         is_cost_confirmed=request.is_confirmed)
    return run_command(options, lambda: _prepare(request, settings=settings, runner=runner, device_info=device_info,
                                                 memory_probe=memory_probe))


def _prepare(
    request: SegmentationRequest, *, settings: Settings, runner: Runner, device_info: DeviceInfo | None,
    memory_probe: MemoryProbe,
) -> PreparedRun[SegmentationRunRecord]:
    start, started_at = time.monotonic(), utc_now()
    request = request.model_copy(update={  # recorded absolute: a verifier may run from another folder
        "output_dir": Path(request.output_dir).absolute(), "image_path": Path(request.image_path).absolute(),
        "ground_truth_path": None if request.ground_truth_path is None else Path(request.ground_truth_path).absolute()})
    outcome = preflight_segmentation(request, settings=settings, device_info=device_info or detect_device(),
                                     memory_probe=memory_probe)
    preflight_seconds = round(time.monotonic() - start, 3)
    record = SegmentationRunRecord(status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=started_at,
                                   finished_at=utc_now(), output_dir=request.output_dir, preflight=outcome.report,
                                   request=request, plan=outcome.plan)

    def run_step(ready: SegmentationRunRecord, output_dir: Path) -> SegmentationRunRecord:
        return _run(ready, outcome, settings=settings, runner=runner, preflight_seconds=preflight_seconds)

    return PreparedRun(record=record, run_step=run_step, plan_card=_plan_card(record, outcome))


def _plan_card(record: SegmentationRunRecord, outcome: PreflightOutcome) -> PlanCard:
    plan, request = record.plan, record.request
    rows = [["image", str(request.image_path)], ["modality", str(plan.modality) if plan else "?"],
            ["output type", str(plan.output_type) if plan else "?"], ["device", plan.device if plan else "?"],
            ["timeout (s)", f"{plan.timeout_seconds:.0f}" if plan else "?"]]
    if plan is not None and plan.input is not None:
        rows += [["input kind", plan.input.kind.value], ["input shape", str(plan.input.geometry.shape)]]
    ids = plan.prompts.expanded_ids if plan is not None and plan.prompts is not None else []
    names = outcome.labels.names
    return PlanCard(title="Plan: NV-Segment-CTMR segmentation", request_rows=rows, label_header=["id", "name"],
                    label_rows=[[str(label_id), names.get(label_id, "?")] for label_id in ids])


def _run(
    record: SegmentationRunRecord, outcome: PreflightOutcome, *, settings: Settings, runner: Runner,
    preflight_seconds: float,
) -> SegmentationRunRecord:
    plan, loaded = outcome.plan, outcome.loaded
    assert plan.input is not None and plan.modality is not None and plan.prompts is not None and loaded is not None
    output_dir = Path(record.output_dir)
    conversion_start = time.monotonic()
    if loaded.kind is InputKind.DICOM_SERIES:
        write_nifti(plan.input.bundle_input_path, loaded.array, loaded.affine)
    conversion_seconds = round(time.monotonic() - conversion_start, 3)
    bundle_input, brain = plan.input.bundle_input_path, None
    if record.request.is_brain_preprocessing:  # a MedskillsError here is recorded by core.run with its exit code
        brain = _prepare_brain(loaded, bundle_input, output_dir)
        bundle_input = brain.preprocessed_path
        record = record.with_updates(brain_preprocessing=brain.output)
        assert isinstance(record, SegmentationRunRecord)
    bundle_output_dir = output_dir / "bundle_output"
    command = UpstreamCommand(
        argv=bundle_files.build_bundle_argv(
            image_path=bundle_input, modality=plan.modality.value, bundle_output_dir=bundle_output_dir,
            label_prompt=None if plan.prompts.is_everything else plan.prompts.expanded_ids, device=plan.device,
            logging_file=bundle_files.write_logging_file(output_dir / "logs")),
        cwd=plan.bundle.root, env=build_environment({"PYTORCH_CUDA_ALLOC_CONF": bundle_files.ALLOC_CONF}),
        timeout_seconds=plan.timeout_seconds, log_dir=output_dir / "logs", log_name="monai_bundle",
    )
    invocation = runner(command)
    expected = bundle_files.expected_output_path(bundle_output_dir, bundle_input)
    if brain is not None and expected.is_file():  # labels of the template-grid image go back to the input grid
        expected = revert_label_file(expected, brain.metadata, output_dir / "bundle_output_input_grid.nii.gz")
    postprocess_start = time.monotonic()
    label_map = _read_bundle_output(expected, invocation=invocation, record=record)
    gates = evaluate_gates(label_map.context)
    written = _write_outputs(record, outcome, label_map)
    gates += written.gates
    timings = {"preflight_seconds": preflight_seconds, "conversion_seconds": conversion_seconds,
               "upstream_seconds": invocation.runtime_seconds,
               "postprocess_seconds": round(time.monotonic() - postprocess_start, 3)}
    weights = weight_inventory([plan.bundle.model_path], cache_path=settings.weight_hash_cache)
    output = build_output(plan=plan, labels=outcome.labels, context=label_map.context, loaded=loaded,
                          mask_path=written.mask_path, dicom_seg=written.dicom_seg, timings=timings,
                          bundle_output_path=expected)
    record = record.with_updates(invocation=invocation, output=output, gates=gates,
                                 artifacts=_artifacts(output, plan.input.bundle_input_path, loaded.kind),
                                 provenance=collect_provenance(upstream_root=plan.bundle.root, weights=weights,
                                                               device=_device_for(plan.device)))
    assert isinstance(record, SegmentationRunRecord)
    card_path, card_error = render_card(record, loaded=loaded, labels=label_map.labels)
    record = record.with_updates(card_path=card_path, card_error=card_error)
    return _close(record, invocation)


def _prepare_brain(loaded: LoadedInput, path: Path, output_dir: Path) -> PreparedBrainInput:
    """Preprocess the already-read input (bundle grid, on-disk orientation); ``path`` is the file it came from."""
    volume = ImageVolume(array=loaded.array, affine=loaded.affine, spacing_mm=loaded.geometry.spacing_mm,
                         units=VolumeUnits.SIGNAL, orientation=VolumeOrientation.ON_DISK, source_path=path)
    return prepare_brain_input(volume, output_dir / "brain_preprocess")


def _close(record: SegmentationRunRecord, invocation: Invocation) -> SegmentationRunRecord:
    failed = [gate for gate in record.gates if gate.status == Status.FAILED]
    reasons = [f"{gate.gate}: {gate.message}" for gate in failed]
    if invocation.is_timed_out:
        reasons.insert(0, f"timeout: the bundle ran past {invocation.timeout_seconds:g} s and was killed")
        status, code = Status.FAILED, ExitCode.TIMEOUT
    else:
        status, code = (Status.FAILED, ExitCode.FAILED) if failed else (Status.PASSED, ExitCode.OK)
    record = record.with_updates(status=status, exit_code=code, failure_reasons=reasons)
    assert isinstance(record, SegmentationRunRecord)
    record = record.with_updates(output=record.output.model_copy(
        update={"reference_output_path": Path(record.output_dir) / "output.json"}) if record.output else None)
    assert isinstance(record, SegmentationRunRecord)
    write_reference_pack(record, version=SKILL_VERSION)
    return record


def _artifacts(output: SegmentationOutput, bundle_input: Path, kind: InputKind) -> list[Artifact]:
    """Files the run wrote, with size and sha256, so a verifier can tell if they changed."""
    roles = [("label_map", output.mask_path), ("bundle_output", output.bundle_output_path),
             ("dicom_seg", output.dicom_seg.path if output.dicom_seg else None),
             ("converted_input", bundle_input if kind is InputKind.DICOM_SERIES else None)]
    seen: set[Path] = set()
    artifacts = []
    for role, path in roles:
        if path is None or path in seen or not Path(path).is_file():
            continue
        seen.add(path)
        artifacts.append(file_artifact(role, Path(path)))
    return artifacts


def _device_for(device: str) -> DeviceInfo:
    return detect_device() if device.startswith("cuda") else DeviceInfo(cuda_available=False)


def _read_bundle_output(expected: Path, *, invocation: Invocation, record: SegmentationRunRecord) -> _LabelMap:
    """Load the one expected file; record (never raise) what is wrong with it."""
    plan = record.plan
    assert plan is not None and plan.input is not None and plan.prompts is not None and plan.modality is not None
    labels = affine = geometry = statistics = None
    integrality_error = None
    centroids: dict[int, float] = {}
    is_present = expected.is_file()
    if is_present:
        try:
            volume = read_volume(expected)
            labels = as_label_map(volume.array, where=str(expected))
            affine = volume.affine
            geometry = compare_geometry(plan.input.geometry, volume.geometry)
            statistics = label_statistics(labels, volume.geometry.spacing_mm)
            centroids = centroid_x_ras(labels, affine, tuple(i for pair in LATERAL_PAIRS for i in pair[:2]))
        except InputError as err:
            integrality_error, labels = str(err), None
    context = PostRunContext(invocation=invocation, expected_output=expected, is_output_present=is_present,
                             integrality_error=integrality_error, geometry=geometry, statistics=statistics,
                             allowed_ids=plan.prompts.allowed_output_ids, modality=plan.modality,
                             centroid_x_mm=centroids)
    return _LabelMap(labels=labels, affine=affine, context=context)


@dataclass(frozen=True)
class _Written:
    mask_path: Path | None
    dicom_seg: DicomSegSummary | None
    gates: list[GateResult]


def _write_outputs(record: SegmentationRunRecord, outcome: PreflightOutcome, label_map: _LabelMap) -> _Written:
    """int32 NIfTI label map and, for DICOM input, the DICOM SEG; a SEG problem becomes a failed gate."""
    plan, loaded = outcome.plan, outcome.loaded
    assert plan.input is not None and loaded is not None
    if label_map.labels is None or label_map.affine is None:
        return _Written(mask_path=None, dicom_seg=None, gates=[])
    mask_path = None
    if plan.output_type in (OutputType.NIFTI, OutputType.BOTH):
        mask_path = write_nifti(Path(record.output_dir) / "labels.nii.gz", label_map.labels.astype(np.int32),
                                     label_map.affine)
    if plan.output_type is OutputType.NIFTI or loaded.series is None:
        return _Written(mask_path=mask_path, dicom_seg=None, gates=[])
    volume = loaded.series.volume
    # the label map's affine went through a float32 NIfTI header: on an oblique series it is ~1e-5 mm off the
    # series' own, past highdicom's tolerance; on the input's grid (checked once, for geometry_matches_input)
    # the SEG is written on the series' exact affine
    is_same_grid = label_map.context.geometry is not None and label_map.context.geometry.is_match
    try:
        source = read_seg_sources(loaded.series.source_paths, study_uid=volume.study_uid, series_uid=volume.series_uid)
        summary = write_dicom_seg(labels=label_map.labels, source=source,
                                  affine_ras=volume.affine if is_same_grid else label_map.affine,
                                  names=outcome.labels.names, output_path=Path(record.output_dir) / "labels.seg.dcm",
                                  algorithm_version=plan.bundle.version or "unknown")
    except GateFailure as err:
        gate = GateResult(gate="dicom_seg_written", status=Status.FAILED, message=str(err))
        return _Written(mask_path=mask_path, dicom_seg=None, gates=[gate])
    gate = GateResult(gate="dicom_seg_round_trip",
                      status=Status.PASSED if summary.is_realigned and summary.is_readable_pydicom else Status.FAILED,
                      message=f"SEG read back with pydicom ({summary.is_readable_pydicom}) and highdicom; frames by "
                      f"source instance realign with the label map: {summary.is_realigned}")
    return _Written(mask_path=mask_path, dicom_seg=summary, gates=[gate])
