"""Mask-only CT anatomy generation through ``scripts.sample_mask.ldm_conditional_sample_one_mask``.

Upstream has no command for it, so a small runner of ours (``medskills.synthesis.ct_mask._runner``) calls
the library function in a subprocess with the upstream root as working directory; upstream is never
imported here. Requests follow Path A's rules (controllable sizes in [0, 1] or -1, at most one tumor)
at the mask model's fixed 256^3 x 1.5 mm grid. Masks are raw MAISI ids (body 200).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from medskills.core.errors import ExitCode
from medskills.core.io import write_json_atomic
from medskills.core.models import Status, utc_now
from medskills.core.plan_card import PlanCard
from medskills.core.preflight import PreflightCollector, check_gpu, check_unknown_keys
from medskills.core.provenance import DeviceInfo, collect_provenance, detect_device
from medskills.core.records import file_artifact
from medskills.core.run import PreparedRun, RunOptions, run_command, run_outcome
from medskills.core.settings import Settings
from medskills.core.skills import SkillId
from medskills.core.upstream import Runner, UpstreamCommand, run_upstream
from medskills.synthesis.ct_mask._runner import MASK_SPACING_MM, MaskJob
from medskills.synthesis.ct_mask.evidence import inspect_masks
from medskills.synthesis.ct_mask.gates import evaluate_mask_gates
from medskills.synthesis.ct_mask.record import MASK_RUNNER_MODULE, CTMaskRecord, ExpectedLabel
from medskills.synthesis.ct_mask.request import (
    DEFAULT_CONTROLLABLE, MASK_SIZE, OVERRIDE_KEYS, CTMaskRequest, check_mask_request, estimate_mask_cost,
)
from medskills.synthesis.nv_generate.request import read_override_file
from medskills.synthesis.nv_generate.anatomy import load_anatomy_table
from medskills.synthesis.nv_generate.checks import (
    check_upstream_commit, check_upstream_requirements, check_weights, read_config_infer, resolve_generate_root,
    run_environment,
)
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings
from medskills.synthesis.nv_generate.staging import LOG_DIR_NAME, STAGED_DIR_NAME, stage_ct_configs
from medskills.synthesis.paired_ct.evidence import compute_anatomy_size_condition
from medskills.synthesis.paired_ct.record import AnatomySizeCondition

__all__ = ["generate_ct_masks"]

MASK_WEIGHTS = ("mask_generation_autoencoder.pt", "mask_generation_diffusion_unet.pt")
_VERSION = CTVersion.RFLOW_CT


def _expected_labels(settings: InferenceSettings) -> list[ExpectedLabel]:
    table = load_anatomy_table().by_name()
    return [ExpectedLabel(anatomy=name, maisi_label_id=table[name].id)
            for name, _ in settings.controllable_anatomy_size if name in table]


def generate_ct_masks(
    request: CTMaskRequest, *, settings: Settings, runner: Runner = run_upstream, device: DeviceInfo | None = None,
    expected_sha256: dict[str, str] | None = None,
) -> CTMaskRecord:
    """Validate, then (unless preflight-only) generate masks in a subprocess and check the expected ids.

    Returns:
        The record (``OUT/result.json`` on every outcome, ``core.run``): exit 2 for refusals (including a
        run without ``--yes``), 1 when upstream failed or an expected id is missing, 124 on timeout.

    Raises:
        UsageError: the request file cannot be read, or ``--output-dir`` is refused.
    """
    return run_command(RunOptions.of(request), lambda: _prepare(request, settings=settings, runner=runner, device=device,
                                                 expected_sha256=expected_sha256))


def _prepare(
    request: CTMaskRequest, *, settings: Settings, runner: Runner, device: DeviceInfo | None,
    expected_sha256: dict[str, str] | None,
) -> PreparedRun[CTMaskRecord]:
    started_at = utc_now()
    overrides, unknown = ({}, []) if request.config_path is None else read_override_file(
        request.config_path, allowed_keys=OVERRIDE_KEYS)
    collector = PreflightCollector()
    root = resolve_generate_root(collector, settings)
    check_unknown_keys(collector, unknown, OVERRIDE_KEYS, where="the mask request")
    base = read_config_infer(collector, root)
    default_controllable = DEFAULT_CONTROLLABLE if request.config_path is None else []
    merged = {**base, "output_size": list(MASK_SIZE), "spacing": list(MASK_SPACING_MM),
              "controllable_anatomy_size": default_controllable, **overrides}
    check_mask_request(collector, merged)
    inference = check_inference_config(collector, merged, table=load_anatomy_table(), version=_VERSION)
    check_upstream_commit(collector, root, skill=SkillId.SYNTH_CT, version=_VERSION.value)
    check_upstream_requirements(collector, root)
    weights = check_weights(collector, settings, SkillId.SYNTH_CT, _VERSION.value, root, names=MASK_WEIGHTS,
                            expected_sha256=expected_sha256)
    data_root = Path(settings.monai_data_directory).absolute() if settings.monai_data_directory else root
    condition = None
    if inference is not None and data_root is not None:
        condition = compute_anatomy_size_condition(inference, data_root / "datasets" / "all_anatomy_size_conditions.json")
        if condition is None:
            collector.error("size_conditions_missing", f"{data_root}/datasets/all_anatomy_size_conditions.json is "
                            "missing or unreadable; upstream picks the size vector from it.", field="datasets",
                            fix="run `medskills setup synth-ct`", blocks_request=False)
    device = device or detect_device()
    check_gpu(collector, settings, device, needed_for="mask generation")
    cost = estimate_mask_cost(inference) if inference is not None else None
    record = CTMaskRecord(
        status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=started_at, finished_at=utc_now(),
        output_dir=Path(request.output_dir).absolute(), preflight=collector.report(cost=cost), overrides=overrides,
        random_seed=request.random_seed, anatomy_size_condition=condition,
        controllable_anatomy_size=[] if inference is None else inference.controllable_anatomy_size,
        expected_labels=[] if inference is None else _expected_labels(inference),
        provenance=collect_provenance(upstream_root=root, weights=weights, device=device),
    )

    def run_step(ready: CTMaskRecord, output_dir: Path) -> CTMaskRecord:
        assert root is not None and data_root is not None and inference is not None and condition is not None
        return _run(ready, request, output_dir, runner=runner, root=root, data_root=data_root, inference=inference,
                    condition=condition, base_config=base)

    rows = [["config", str(request.config_path or "default (lung tumor 0.5)")],
            ["random seed", str(request.random_seed)], ["overrides", str(overrides or "none")],
            ["controllable sizes", str(record.controllable_anatomy_size)]]
    labels = [[label.anatomy, str(label.maisi_label_id)] for label in record.expected_labels]
    return PreparedRun(record=record, run_step=run_step, plan_card=PlanCard(
        title="Plan: synthetic CT anatomy masks", request_rows=rows, label_header=["anatomy", "MAISI id"],
        label_rows=labels))


def _run(
    record: CTMaskRecord, request: CTMaskRequest, output_dir: Path, *, runner: Runner, root: Path, data_root: Path,
    inference: InferenceSettings, condition: AnatomySizeCondition, base_config: dict[str, Any],
) -> CTMaskRecord:
    staged = stage_ct_configs(_VERSION, inference, root=root, data_root=data_root,
                              base_config=base_config, output_dir=output_dir)
    job = MaskJob(
        environment_path=staged.environment_path, network_path=staged.network_path,
        inference_path=staged.inference_path, anatomy_size=condition.values,
        num_samples=inference.num_output_samples, num_inference_steps=inference.mask_generation_num_inference_steps,
        sliding_window_size=inference.autoencoder_sliding_window_infer_size,
        sliding_window_overlap=inference.autoencoder_sliding_window_infer_overlap,
        random_seed=request.random_seed, output_dir=output_dir,
    )
    job_path = write_json_atomic(output_dir / STAGED_DIR_NAME / "mask_job.json", job)
    invocation = runner(UpstreamCommand(
        argv=[sys.executable, "-m", MASK_RUNNER_MODULE, str(job_path)], cwd=root,
        env=run_environment(root, data_root=data_root), timeout_seconds=request.timeout_seconds,
        log_dir=output_dir / LOG_DIR_NAME, log_name="sample_mask"))
    threshold = invocation.started_at.timestamp() - 1.0
    paths = [path for path in sorted(output_dir.iterdir()) if re.fullmatch(r"mask_\d{4}\.nii\.gz", path.name)
             and path.stat().st_mtime >= threshold]
    expected = [label.maisi_label_id for label in record.expected_labels]
    output = inspect_masks(output_dir, paths, expected_ids=expected)
    gates = evaluate_mask_gates(invocation, output, expected_samples=inference.num_output_samples)
    status, exit_code, reasons = run_outcome(invocation, gates)
    artifacts = [*(file_artifact("mask", sample.path) for sample in output.samples),
                 *(file_artifact("staged_config", path) for path in (staged.inference_path, staged.environment_path,
                                                                     job_path))]
    return record.with_updates(
        status=status, exit_code=exit_code, invocation=invocation, gates=gates, output=output, job_path=job_path,
        artifacts=artifacts, failure_reasons=reasons,
    )
