"""Preflight of a segmentation request: every problem at once, before any subprocess.

Request problems (bad modality, prompts, input, device string) make the request invalid and exit 2.
Readiness problems (no bundle, no weights, no GPU, too little memory) only mark the machine as not
ready: ``--preflight-only`` still validates the request and exits 0 on a bare machine.

GPU policy: the bundle runs on CPU (segment.md §A.7), but at ~1.5 min per window on 2 cores. So a
missing GPU is a readiness error only when the user did not choose CPU: ``--device cpu`` is an
explicit opt-in, and ``MEDSKILLS_ALLOW_NO_GPU=1`` turns the error into a recorded warning and runs on CPU.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medskills.core.assets import AssetKind, assets_for
from medskills.core.errors import InputError
from medskills.core.image_volume import open_nifti
from medskills.core.skills import SkillId
from medskills.core.models import CostEstimate, PreflightReport
from medskills.core.preflight import PreflightCollector, suggestion_text
from medskills.core.provenance import DeviceInfo, weight_inventory
from medskills.core.requirements import missing_packages, pip_install_command
from medskills.core.settings import Settings
from medskills.segmentation import bundle as bundle_files
from medskills.segmentation._brain import check_brain_preprocessed
from medskills.segmentation.brain_preprocess.bundle_input import check_brain_preprocessing_ready
from medskills.segmentation._bundle_imports import bundle_imports
from medskills.segmentation._input import LoadedInput, check_input_values, load_input
from medskills.segmentation.labels import (
    SegmentationLabels,
    SegmentationModality,
    load_label_sets,
    load_segmentation_labels,
    resolve_prompts,
)
from medskills.segmentation.models import (
    BrainHeuristic,
    BundleInfo,
    InputKind,
    InputSummary,
    MemoryEstimate,
    OutputType,
    SegmentationPlan,
    SegmentationRequest,
)

__all__ = ["MemoryProbe", "PreflightOutcome", "estimate_memory", "preflight_segmentation", "probe_available_memory"]

MemoryProbe = Callable[[str], tuple[int | None, str]]
BYTES_PER_VOXEL = 4
SETUP_HINT = "medskills setup segment-ctmr"
_DEVICE_PATTERN = re.compile(r"^(cpu|cuda:\d+)$")
WEIGHT_SIZE_TOLERANCE = 0.2


@dataclass(frozen=True)
class PreflightOutcome:
    """The report, the plan built from it, the labels in use and the input read once."""

    report: PreflightReport
    plan: SegmentationPlan
    labels: SegmentationLabels
    loaded: LoadedInput | None


def probe_available_memory(device: str) -> tuple[int | None, str]:
    """Free bytes where the stitching buffer lives: CUDA free memory, else the host's MemAvailable."""
    if device.startswith("cuda"):
        import torch

        free_bytes, _ = torch.cuda.mem_get_info(int(device.split(":")[1]))
        return int(free_bytes), f"free memory of {device}"
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024, "host MemAvailable"
    except OSError:
        return None, "unknown (no /proc/meminfo)"
    return None, "unknown"


def estimate_memory(
    *, loaded: LoadedInput, prompt_count: int, spacing_mm: tuple[float, float, float],
    patch_size: tuple[int, int, int], available: tuple[int | None, str],
) -> MemoryEstimate:
    """Stitching buffer = prompts x voxels at model spacing x 4 bytes (segment.md §E.2), before the crop."""
    shape = loaded.geometry.shape
    resampled = tuple(max(1, math.ceil(n * s / m)) for n, s, m in zip(shape, loaded.geometry.spacing_mm, spacing_mm,
                                                                         strict=True))
    shape_at_model = (resampled[0], resampled[1], resampled[2])
    voxels = shape_at_model[0] * shape_at_model[1] * shape_at_model[2]
    return MemoryEstimate(
        prompt_count=prompt_count, model_spacing_mm=spacing_mm, patch_size=patch_size,
        shape_at_model_spacing=shape_at_model, windows_estimated=bundle_files.window_count(shape_at_model, patch_size),
        buffer_bytes=prompt_count * voxels * BYTES_PER_VOXEL, available_bytes=available[0],
        available_source=available[1],
    )


def _check_preprocess_flag(
    request: SegmentationRequest, modality: SegmentationModality | None, collector: PreflightCollector
) -> None:
    if not request.is_brain_preprocessing:
        return
    if modality is not None and modality is not SegmentationModality.MRI_BRAIN:
        collector.error("preprocess_needs_mri_brain", f"--preprocess is the brain T1 recipe; it does not apply to "
                        f"{modality.value}.", field="--preprocess", fix="drop --preprocess or use --modality MRI_BRAIN")
    else:
        check_brain_preprocessing_ready(collector)


def preflight_segmentation(
    request: SegmentationRequest, *, settings: Settings, device_info: DeviceInfo,
    memory_probe: MemoryProbe = probe_available_memory,
) -> PreflightOutcome:
    """Check the request and the machine; never raises for a finding, only records it."""
    collector = PreflightCollector()
    modality = _check_modality(request.modality, collector)
    root = bundle_files.resolve_bundle_root(settings)
    is_layout_complete = _check_bundle(root, collector)
    _check_bundle_packages(root, collector)
    labels = load_segmentation_labels(root if is_layout_complete else None)
    if labels.is_label_dict_missing:
        collector.warning("label_dict_missing", f"{root / 'configs' / 'label_dict.json'} is absent (the bundle run "
                          f"does not read it). Using {labels.source}. The run records label ids either way.",
                          field="NV_SEGMENT_CTMR_ROOT")
    prompts = resolve_prompts(request.prompts, modality=modality, labels=labels, label_sets=load_label_sets(),
                              collector=collector)
    loaded = load_input(request.image_path, collector)
    output_type = _check_output_type(request, loaded, collector)
    _check_ground_truth(request.ground_truth_path, collector)
    brain: list[BrainHeuristic] = []
    if loaded is not None:
        check_input_values(loaded, modality=modality, collector=collector)
        if modality is SegmentationModality.MRI_BRAIN and not request.is_brain_preprocessing:
            brain = check_brain_preprocessed(loaded, bundle_root=root, collector=collector)
    _check_preprocess_flag(request, modality, collector)
    device = _check_device(request.device, settings=settings, device_info=device_info, collector=collector)
    model_path = bundle_files.model_weight_path(root)
    _check_weights(model_path, settings=settings, collector=collector)
    config = bundle_files.read_bundle_config(root)
    memory = None
    if loaded is not None and modality is not None and prompts.prompt_count:
        memory = estimate_memory(loaded=loaded, prompt_count=prompts.prompt_count,
                                 spacing_mm=config.resample_spacing_mm, patch_size=config.patch_size,
                                 available=memory_probe(device))
    cost = _check_memory(memory, device=device, is_confirmed=request.is_confirmed, collector=collector)
    windows = memory.windows_estimated if memory else 1
    timeout = request.timeout_seconds or bundle_files.estimate_timeout_seconds(windows, device_kind=device)
    weight = assets_for(SkillId.SEGMENT_CTMR, kind=AssetKind.WEIGHT)[0]
    plan = SegmentationPlan(
        modality=modality, prompts=prompts, input=_summarize(loaded, request.output_dir), device=device,
        memory=memory, timeout_seconds=timeout, brain_heuristics=brain, output_type=output_type,
        bundle=BundleInfo(root=root, is_layout_complete=is_layout_complete,
                          version=bundle_files.read_bundle_version(root),
                          hf_repo_id=weight.repo_id, hf_revision=weight.revision, model_path=model_path,
                          label_dictionary_source=labels.source, resample_spacing_mm=config.resample_spacing_mm,
                          patch_size=config.patch_size),
    )
    return PreflightOutcome(report=collector.report(cost=cost), plan=plan, labels=labels, loaded=loaded)


def bundle_input_path(loaded: LoadedInput, output_dir: Path) -> Path:
    """The NIfTI the bundle reads: the input itself, or the series converted once into ``OUT/input``."""
    if loaded.kind is InputKind.NIFTI:
        return Path(loaded.path).absolute()
    return Path(output_dir).absolute() / "input" / "series.nii.gz"


def _summarize(loaded: LoadedInput | None, output_dir: Path) -> InputSummary | None:
    if loaded is None:
        return None
    volume = loaded.series.volume if loaded.series is not None else None
    return InputSummary(
        path=Path(loaded.path).absolute(), kind=loaded.kind, bundle_input_path=bundle_input_path(loaded, output_dir),
        geometry=loaded.geometry, intensity=loaded.intensity,
        study_instance_uid=volume.study_uid if volume else None,
        series_instance_uid=volume.series_uid if volume else None,
        source_instance_count=len(volume.sop_instance_uids) if volume else 0,
    )


def _check_modality(value: str, collector: PreflightCollector) -> SegmentationModality | None:
    try:
        return SegmentationModality(value)
    except ValueError:
        choices = [m.value for m in SegmentationModality]
        collector.error("modality_invalid", f"modality {value!r} is not one of {', '.join(choices)}."
                        f"{suggestion_text(value, choices)}", field="--modality",
                        fix="CT_BODY for body CT, MRI_BODY for body MRI, MRI_BRAIN for preprocessed brain T1")
        return None


def _check_bundle(root: Path, collector: PreflightCollector) -> bool:
    missing = bundle_files.missing_layout_files(root)
    if not missing:
        return True
    what = "does not exist" if not root.is_dir() else f"lacks {', '.join(missing)}"
    collector.error("bundle_missing", f"NV-Segment-CTMR bundle root {root} {what}.", field="NV_SEGMENT_CTMR_ROOT",
                    fix=f"run `{SETUP_HINT}`, or set NV_SEGMENT_CTMR_ROOT to <clone>/NV-Segment-CTMR",
                    blocks_request=False)
    return False


def _check_bundle_packages(root: Path, collector: PreflightCollector) -> None:
    """Every package the bundle run imports must be importable here, or the run dies inside the bundle."""
    needed = bundle_imports(root)
    missing = missing_packages(item.requirement for item in needed)
    if not missing:
        return
    where = {item.requirement: item.imported_by for item in needed}
    names = ", ".join(f"{r.import_name} (pip: {r.pip_requirement}; imported by {where[r]})" for r in missing)
    collector.error("bundle_packages_missing", f"the NV-Segment-CTMR bundle run imports packages this Python cannot "
                    f"import: {names}.", field="python packages", fix=pip_install_command(missing),
                    blocks_request=False)


def _check_weights(model_path: Path, *, settings: Settings, collector: PreflightCollector) -> None:
    weight = assets_for(SkillId.SEGMENT_CTMR, kind=AssetKind.WEIGHT)[0]
    [inventory] = weight_inventory([model_path], cache_path=settings.weight_hash_cache, hash_files=False)
    how = (f"run `{SETUP_HINT}` (downloads {weight.repo_id}@{weight.revision[:12]} {weight.filename} to "
           f"{weight.target}, about {weight.size_mb_approx:.0f} MB)")
    if not inventory.is_present:
        collector.error("weights_missing", f"model weights {model_path} not found.", field=str(model_path), fix=how,
                        blocks_request=False)
        return
    size_mb = (inventory.bytes or 0) / 1e6
    if abs(size_mb - weight.size_mb_approx) > WEIGHT_SIZE_TOLERANCE * weight.size_mb_approx:
        collector.warning("weights_size_unexpected", f"{model_path} is {size_mb:.1f} MB; the published checkpoint is "
                          f"about {weight.size_mb_approx:.0f} MB (partial download or a different model?).",
                          field=str(model_path), fix=how)


def _check_output_type(
    request: SegmentationRequest, loaded: LoadedInput | None, collector: PreflightCollector
) -> OutputType:
    is_dicom = loaded is not None and loaded.kind is InputKind.DICOM_SERIES
    chosen = request.output_type or (OutputType.BOTH if is_dicom else OutputType.NIFTI)
    if chosen is not OutputType.NIFTI and loaded is not None and not is_dicom:
        collector.error("output_type_needs_dicom", f"--output-type {chosen.value} needs a DICOM series as IMAGE; "
                        "a DICOM SEG references its source instances.", field="--output-type",
                        fix="pass the DICOM series folder, or use --output-type nifti")
    return chosen


def _check_ground_truth(path: Path | None, collector: PreflightCollector) -> None:
    """The label map the verifier will grade against: present, a file, and readable as a 3D NIfTI (its header)."""
    if path is None:
        return
    if not Path(path).is_file():
        what = "is a folder, not a label map file" if Path(path).is_dir() else "does not exist"
        collector.error("ground_truth_missing", f"ground truth {path} {what}.", field="--ground-truth",
                        fix="pass an existing NIfTI label map, or drop --ground-truth")
        return
    try:
        open_nifti(path)  # the header only: readable, and one 3D volume, as the verifier will read it
    except InputError as err:
        collector.error("ground_truth_unreadable", f"ground truth: {err}", field="--ground-truth",
                        fix="pass one 3D reference label map as .nii or .nii.gz")


def _check_device(
    requested: str | None, *, settings: Settings, device_info: DeviceInfo, collector: PreflightCollector
) -> str:
    if requested is not None and not _DEVICE_PATTERN.match(requested):
        collector.error("device_invalid", f"device {requested!r} is not 'cpu' or 'cuda:N'.", field="--device",
                        fix="pass --device cpu or --device cuda:0")
        return "cpu"
    if requested == "cpu":
        return "cpu"
    if device_info.cuda_available:
        return requested or "cuda:0"
    reason = device_info.import_error or "torch.cuda.is_available() is False"
    message = (f"no CUDA device ({reason}). The bundle runs on CPU, but at about 1.5 min per sliding window on "
               "2 cores (15-25 min for an abdominal CT).")
    if settings.allow_no_gpu:
        collector.warning("no_gpu_allowed", message + " MEDSKILLS_ALLOW_NO_GPU=1 is set: running on CPU.",
                          field="MEDSKILLS_ALLOW_NO_GPU")
    else:
        collector.error("no_gpu", message, field="--device", blocks_request=False,
                        fix="run on a CUDA machine, pass --device cpu to choose the CPU, "
                        "or set MEDSKILLS_ALLOW_NO_GPU=1")
    return "cpu"


def _check_memory(
    memory: MemoryEstimate | None, *, device: str, is_confirmed: bool, collector: PreflightCollector
) -> CostEstimate | None:
    if memory is None:
        return None
    per_window = bundle_files.SECONDS_PER_WINDOW["cuda" if device.startswith("cuda") else "cpu"]
    buffer_gb = memory.buffer_bytes / 1024**3
    is_too_big = memory.available_bytes is not None and memory.buffer_bytes > memory.available_bytes
    reasons = []
    if is_too_big:
        available_gb = (memory.available_bytes or 0) / 1024**3
        message = (f"the stitching buffer needs about {buffer_gb:.1f} GB ({memory.prompt_count} prompts x "
                   f"{memory.shape_at_model_spacing} voxels at {memory.model_spacing_mm} mm x 4 bytes), more than the "
                   f"{available_gb:.1f} GB available ({memory.available_source}).")
        reasons.append(message)
        fix = ("request fewer prompts (--label-prompts; the buffer scales with their number), crop the volume to the "
               "region of interest, or use a coarser resample_spacing in the bundle config; pass --yes to try anyway")
        if is_confirmed:
            collector.warning("memory_over_budget_confirmed", message + " --yes given: running anyway.", fix=fix)
        else:
            collector.error("memory_over_budget", message, field="--label-prompts", fix=fix, blocks_request=False)
    return CostEstimate(
        wall_seconds=round(bundle_files.MODEL_LOAD_SECONDS + memory.windows_estimated * per_window, 1),
        peak_vram_gb=round(buffer_gb, 3) if device.startswith("cuda") else 0.0,
        disk_mb=round(memory.shape_at_model_spacing[0] * memory.shape_at_model_spacing[1]
                      * memory.shape_at_model_spacing[2] * 4 / 1e6, 1),
        basis="segment.md §E.2 buffer formula and §E.3 seconds per window",
        needs_confirmation=is_too_big, reasons=reasons,
    )
