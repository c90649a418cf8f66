"""MR-brain synthesis (``rflow-mr-brain``): preflight, staging, the upstream run, evidence and card.

The science runs upstream in ``python -m scripts.diff_model_infer`` with the upstream root as
working directory. This module validates the request, stages the configs (the seed goes into the
model config: upstream has no seed flag), runs the command through an injected runner, reads the
image back and grades it. A failed upstream is exit 1, a timeout 124, never 0.
"""

from __future__ import annotations

from pathlib import Path

from medskills.core.errors import ExitCode
from medskills.core.models import Status, utc_now
from medskills.core.plan_card import PlanCard
from medskills.core.preflight import PreflightCollector, check_gpu
from medskills.core.provenance import DeviceInfo, collect_provenance, detect_device
from medskills.core.run import PreparedRun, RunOptions, run_command
from medskills.core.settings import Settings
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.core.skills import SkillId
from medskills.core.upstream import Runner, run_upstream
from medskills.synthesis.diff_model.run import run_diff_model
from medskills.synthesis.diff_model.staging import DiffModelInference, diff_model_facts, read_inference_defaults
from medskills.synthesis.mr_brain.record import MRBrainRecord, MRBrainRequestEvidence
from medskills.synthesis.mr_brain.request import (
    MR_BRAIN_VERSION, MRBrainOverrides, MRBrainRequest, estimate_mr_brain_cost, load_overrides,
    resolve_modality, validate_overrides,
)
from medskills.synthesis.nv_generate.checks import (
    check_diff_model_weights, check_upstream_commit, check_upstream_requirements, resolve_generate_root,
)
from medskills.synthesis.nv_generate.image_evidence import ImageKind
from medskills.synthesis.nv_generate.image_card import write_image_card

__all__ = ["generate_mr_brain"]



def _request_evidence(
    request: MRBrainRequest, overrides: MRBrainOverrides, modality: MRBrainModality | None,
    inference: DiffModelInference | None, defaults_source: str, default_guidance: float,
) -> MRBrainRequestEvidence:
    return MRBrainRequestEvidence(
        config_path=request.config_path, overrides=overrides.given(), modality_name=modality,
        modality_id=None if modality is None else modality.upstream_id,
        dim_requested=None if inference is None else inference.dim,
        spacing_requested_mm=None if inference is None else inference.spacing,
        num_inference_steps=None if inference is None else inference.num_inference_steps,
        cfg_guidance_scale=None if inference is None else inference.cfg_guidance_scale,
        upstream_default_cfg_guidance_scale=default_guidance, defaults_source=defaults_source,
        random_seed=request.random_seed,
    )


def generate_mr_brain(
    request: MRBrainRequest, *, settings: Settings, runner: Runner = run_upstream, device: DeviceInfo | None = None,
    expected_sha256: dict[str, str] | None = None,
) -> MRBrainRecord:
    """Validate, then (unless preflight-only) run ``rflow-mr-brain`` and grade the image.

    Args:
        request: the command-line request.
        settings: upstream root, GPU override, hash cache.
        runner: runs the upstream command (tests pass a stand-in-aware runner or the default).
        device: the compute device (detected when None).
        expected_sha256: weight pins by file name (default: the pins in ``core.assets``).

    Returns:
        The run record, also written to ``OUT/result.json`` on every outcome (``core.run``). Its
        ``exit_code`` is 2 for preflight or cost-gate refusals, 1 when upstream or a gate failed, 124 on
        timeout.

    Raises:
        UsageError: the config file cannot be read, or ``--output-dir`` is refused.
    """
    return run_command(RunOptions.of(request), lambda: _prepare(request, settings=settings, runner=runner, device=device,
                                                 expected_sha256=expected_sha256))


def _prepare(
    request: MRBrainRequest, *, settings: Settings, runner: Runner, device: DeviceInfo | None,
    expected_sha256: dict[str, str] | None,
) -> PreparedRun[MRBrainRecord]:
    started_at = utc_now()
    overrides = load_overrides(request.config_path)
    collector = PreflightCollector()
    facts = diff_model_facts(MR_BRAIN_VERSION)
    upstream_root = resolve_generate_root(collector, settings)
    defaults = read_inference_defaults(collector, facts, upstream_root)
    modality = resolve_modality(collector, cli_modality=request.modality, override_modality=overrides.modality)
    inference = validate_overrides(collector, overrides, defaults=defaults.inference, modality=modality,
                                   random_seed=request.random_seed)
    check_upstream_commit(collector, upstream_root, skill=SkillId.SYNTH_MR_BRAIN, version=MR_BRAIN_VERSION)
    check_upstream_requirements(collector, upstream_root)
    weights = check_diff_model_weights(collector, settings, facts, upstream_root, skill=SkillId.SYNTH_MR_BRAIN,
                                       expected_sha256=expected_sha256)
    device = device or detect_device()
    check_gpu(collector, settings, device, needed_for="MR-brain synthesis")
    cost = estimate_mr_brain_cost(inference) if inference is not None else None
    evidence = _request_evidence(request, overrides, modality, inference, defaults.source,
                                 defaults.inference.cfg_guidance_scale)
    record = MRBrainRecord(
        status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=started_at, finished_at=utc_now(),
        output_dir=Path(request.output_dir).absolute(), preflight=collector.report(cost=cost), request=evidence,
        provenance=collect_provenance(upstream_root=upstream_root, weights=weights, device=device),
    )

    def run_step(ready: MRBrainRecord, output_dir: Path) -> MRBrainRecord:
        assert inference is not None and upstream_root is not None and modality is not None  # a ready preflight
        run = run_diff_model(diff_model_facts(MR_BRAIN_VERSION), upstream_root=upstream_root, output_dir=output_dir,
                             output_prefix=f"mr_brain_{modality.value}", inference=inference, kind=ImageKind.MR,
                             settings=settings, runner=runner, timeout_seconds=request.timeout_seconds)
        finished = ready.with_updates(**run.record_updates(output_dir))
        return _with_card(finished, output_dir) if request.has_summary_card else finished

    return PreparedRun(record=record, run_step=run_step,
                       plan_card=PlanCard(title="Plan: synthetic brain MRI (rflow-mr-brain)",
                                          request_rows=_request_rows(record)))


def _request_rows(record: MRBrainRecord) -> list[list[str]]:
    request = record.request
    return [["config", str(request.config_path or "default")],
            ["modality", f"{request.modality_name} (id {request.modality_id})"],
            ["dim requested", str(request.dim_requested)],
            ["spacing requested (mm)", str(request.spacing_requested_mm)],
            ["steps", str(request.num_inference_steps)], ["guidance", str(request.cfg_guidance_scale)],
            ["random seed", str(request.random_seed)]]


def _with_card(record: MRBrainRecord, output_dir: Path) -> MRBrainRecord:
    rows = [*_request_rows(record), ["exit code", str(record.exit_code)]]
    path, error = write_image_card(output_dir, title="Synthetic brain MRI (rflow-mr-brain)",
                                   subtitle=SkillId.SYNTH_MR_BRAIN.value, status=record.status, output=record.output, request_rows=rows, gates=record.gates)
    return record.with_updates(card_path=path, card_error=error)
