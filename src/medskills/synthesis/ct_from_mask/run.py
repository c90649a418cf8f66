"""CT from a user mask (``python -m scripts.infer_image_from_mask``): prepare the mask, stage, run, grade.

The mask is converted to MAISI ids and given a body envelope when asked; the prepared map is written
into the output folder and that file, not the user's, is fed to upstream. Upstream writes one image,
``<mask stem>_<YYYYmmdd_HHMMSS_ffffff>_image.nii.gz``, and no label.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from medskills.core.errors import ExitCode
from medskills.core.models import Status, utc_now
from medskills.core.plan_card import PlanCard
from medskills.core.preflight import PreflightCollector, check_gpu
from medskills.core.provenance import DeviceInfo, collect_provenance, detect_device
from medskills.core.records import file_artifact
from medskills.core.run import PreparedRun, RunOptions, run_command, run_outcome
from medskills.core.settings import Settings
from medskills.core.skills import SkillId
from medskills.core.upstream import Runner, UpstreamCommand, run_upstream
from medskills.core.volumes import write_nifti
from medskills.synthesis.ct_from_mask.record import CT_FROM_MASK_ENTRYPOINT, CTFromMaskRecord, CTFromMaskRequestEvidence
from medskills.synthesis.ct_from_mask.request import (
    CTFromMaskRequest, estimate_from_mask_cost, load_from_mask_file, validate_from_mask_overrides,
)
from medskills.synthesis.nv_generate.checks import (
    check_upstream_commit, check_upstream_requirements, check_weights, read_config_infer, resolve_generate_root,
    run_environment,
)
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings
from medskills.synthesis.nv_generate.image_evidence import ImageKind, image_artifacts, inspect_image, summarize_images
from medskills.synthesis.nv_generate.image_card import write_image_card
from medskills.synthesis.nv_generate.image_gates import evaluate_image_gates
from medskills.synthesis.nv_generate.staging import LOG_DIR_NAME, stage_ct_configs
from medskills.synthesis.nv_generate.user_mask import PreparedMask, prepare_user_mask, ras_grid

__all__ = ["generate_ct_from_mask"]

FROM_MASK_WEIGHTS = ("autoencoder_v1.pt", "diff_unet_3d_rflow-ct.pt", "controlnet_3d_rflow-ct.pt")
CT_WINDOW_HU = (-200.0, 250.0)
_VERSION = CTVersion.RFLOW_CT


def generate_ct_from_mask(
    request: CTFromMaskRequest, *, settings: Settings, runner: Runner = run_upstream, device: DeviceInfo | None = None,
    expected_sha256: dict[str, str] | None = None,
) -> CTFromMaskRecord:
    """Validate the mask and request, then (unless preflight-only) generate a CT from the mask.

    Returns:
        The record (also ``OUT/result.json`` on every outcome, ``core.run``): exit 2 for preflight or
        cost-gate refusals, 1 when upstream or a gate failed, 124 on timeout, 0 otherwise.

    Raises:
        UsageError: the request file cannot be read, or ``--output-dir`` is refused.
    """
    return run_command(RunOptions.of(request), lambda: _prepare(request, settings=settings, runner=runner, device=device,
                                                 expected_sha256=expected_sha256))


def _prepare(
    request: CTFromMaskRequest, *, settings: Settings, runner: Runner, device: DeviceInfo | None,
    expected_sha256: dict[str, str] | None,
) -> PreparedRun[CTFromMaskRecord]:
    started_at = utc_now()
    file = load_from_mask_file(request.request_path)
    collector = PreflightCollector()
    root = resolve_generate_root(collector, settings)
    base = read_config_infer(collector, root)
    mask = prepare_user_mask(collector, file.mask_path, source_labels=request.source_labels,
                             body_envelope_ct=request.body_envelope_ct,
                             allow_missing_body_label=request.allow_missing_body_label)
    inference = validate_from_mask_overrides(collector, file, base_config=base,
                                             mask_shape=None if mask is None else ras_grid(mask.evidence.geometry)[0])
    check_upstream_commit(collector, root, skill=SkillId.SYNTH_CT, version=_VERSION.value)
    check_upstream_requirements(collector, root)
    weights = check_weights(collector, settings, SkillId.SYNTH_CT, _VERSION.value, root, names=FROM_MASK_WEIGHTS,
                            expected_sha256=expected_sha256)
    device = device or detect_device()
    check_gpu(collector, settings, device, needed_for="CT generation from a mask")
    cost = estimate_from_mask_cost(inference) if inference is not None else None
    record = CTFromMaskRecord(
        status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=started_at, finished_at=utc_now(),
        output_dir=Path(request.output_dir).absolute(), preflight=collector.report(cost=cost),
        provenance=collect_provenance(upstream_root=root, weights=weights, device=device),
        mask=None if mask is None else mask.evidence,
        request=CTFromMaskRequestEvidence(
            request_path=request.request_path, mask_path=file.mask_path, overrides=file.overrides,
            source_labels=request.source_labels, body_envelope_ct=request.body_envelope_ct,
            allow_missing_body_label=request.allow_missing_body_label, random_seed=request.random_seed,
            num_inference_steps=None if inference is None else inference.num_inference_steps,
            cfg_guidance_scale=None if inference is None else inference.cfg_guidance_scale,
        ),
    )

    def run_step(ready: CTFromMaskRecord, output_dir: Path) -> CTFromMaskRecord:
        assert root is not None and mask is not None and inference is not None  # a ready preflight
        return _run(ready, request, output_dir, settings=settings, runner=runner, root=root, mask=mask,
                    inference=inference, base_config=base)

    evidence = record.request
    rows = [["request", str(evidence.request_path)], ["mask", str(evidence.mask_path)],
            ["source labels", evidence.source_labels], ["body envelope from", str(evidence.body_envelope_ct)],
            ["steps", str(evidence.num_inference_steps)], ["random seed", str(evidence.random_seed)]]
    return PreparedRun(record=record, run_step=run_step, plan_card=PlanCard(
        title="Plan: synthetic CT from a mask (rflow-ct)", request_rows=rows))


def _upstream_mask(mask: PreparedMask, output_dir: Path) -> Path:
    """The file upstream reads: the user's own, or the prepared map written into the output folder."""
    source = mask.evidence.source_path
    if not mask.is_changed:
        return source
    stem = source.name.replace(".nii.gz", "").replace(".nii", "")
    return write_nifti(output_dir / "inputs" / f"{stem}_maisi.nii.gz", mask.labels, mask.affine)


def output_image_pattern(mask_path: Path) -> re.Pattern[str]:
    """Upstream's output name for ``mask_path``: ``<stem>_<YYYYmmdd_HHMMSS_ffffff>_image.nii.gz``."""
    stem = mask_path.name.replace(".nii.gz", "").replace(".nii", "")
    return re.compile(f"^{re.escape(stem)}_\\d{{8}}_\\d{{6}}_\\d{{6}}_image\\.nii\\.gz$")


def _scan(output_dir: Path, mask_path: Path, started_at: datetime) -> list[Path]:
    pattern, threshold = output_image_pattern(mask_path), started_at.timestamp() - 1.0
    return [path for path in sorted(output_dir.iterdir()) if path.is_file() and pattern.match(path.name)
            and path.stat().st_size > 0 and path.stat().st_mtime >= threshold]


def _run(
    record: CTFromMaskRecord, request: CTFromMaskRequest, output_dir: Path, *, settings: Settings, runner: Runner, root: Path,
    mask: PreparedMask, inference: InferenceSettings, base_config: dict[str, Any],
) -> CTFromMaskRecord:
    data_root = Path(settings.monai_data_directory).absolute() if settings.monai_data_directory else root
    mask_file = _upstream_mask(mask, output_dir)
    staged = stage_ct_configs(_VERSION, inference, root=root, data_root=data_root, base_config=base_config,
                              output_dir=output_dir)
    argv = [sys.executable, "-m", CT_FROM_MASK_ENTRYPOINT, "--mask", str(mask_file), "-t", str(staged.network_path),
            "-e", str(staged.environment_path), "-i", str(staged.inference_path),
            "--random-seed", str(request.random_seed)]
    invocation = runner(UpstreamCommand(
        argv=argv, cwd=root, env=run_environment(root, data_root=data_root), timeout_seconds=request.timeout_seconds,
        log_dir=output_dir / LOG_DIR_NAME, log_name="infer_image_from_mask"))
    images = [inspect_image(path, kind=ImageKind.CT) for path in _scan(output_dir, mask_file, invocation.started_at)]
    output = summarize_images(output_dir, images, kind=ImageKind.CT)
    gates = evaluate_image_gates(invocation, output, is_geometry_requested=False)
    status, exit_code, reasons = run_outcome(invocation, gates)
    staged_paths = [staged.inference_path, staged.environment_path]
    artifacts = [*image_artifacts(images), *(file_artifact("staged_config", path) for path in staged_paths)]
    if mask_file != mask.evidence.source_path:
        artifacts.append(file_artifact("prepared_mask", mask_file))
    record = record.with_updates(
        status=status, exit_code=exit_code, invocation=invocation, gates=gates, output=output, artifacts=artifacts,
        failure_reasons=reasons, upstream_mask_path=mask_file, staged_config_paths=staged_paths,
    )
    rows = [["mask", str(mask_file)], ["source labels", request.source_labels.value],
            ["steps", str(inference.num_inference_steps)], ["random seed", str(request.random_seed)],
            ["exit code", str(record.exit_code)]]
    card_path, card_error = write_image_card(output_dir, title="Synthetic CT from a mask (rflow-ct)",
                                             subtitle=f"{SkillId.SYNTH_CT} · ct-from-mask", status=record.status,
                                             output=output, request_rows=rows, gates=record.gates, window=CT_WINDOW_HU)
    return record.with_updates(card_path=card_path, card_error=card_error)
