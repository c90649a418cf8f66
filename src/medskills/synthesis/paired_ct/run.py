"""Paired CT synthesis with NV-Generate-CTMR (``rflow-ct`` / ``ddpm-ct``), start to finish.

preflight, then (through ``core.run``: folder, cost gate, record on every outcome) stage configs -> run
``python -m scripts.inference`` through the injected runner -> scan this run's outputs -> evidence ->
gates -> card.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from pydantic import JsonValue

from medskills.core.assets import resolve_version, skill_assets
from medskills.core.skills import SkillId
from medskills.core.errors import ExitCode
from medskills.core.models import Invocation, PreflightReport, Status, utc_now
from medskills.core.provenance import DeviceInfo, collect_provenance, detect_device
from medskills.core.plan_card import PlanCard
from medskills.core.run import PreparedRun, RunOptions, run_command, run_outcome
from medskills.core.settings import Settings
from medskills.core.upstream import Runner, run_upstream
from medskills.synthesis.paired_ct.card import MAX_PANELS, write_ct_card
from medskills.synthesis.paired_ct.evidence import (
    compute_anatomy_size_condition,
    describe_sample,
    label_mapping,
    scan_outputs,
    summarize_outputs,
)
from medskills.synthesis.paired_ct.gates import CT_GATES, CTGateContext
from medskills.synthesis.paired_ct.preflight import CTPreflight, run_ct_preflight
from medskills.synthesis.paired_ct.record import CTRequestSection, CTSynthesisRecord, ModelSection
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.paired_ct.request import CTRunRequest, load_overrides
from medskills.synthesis.nv_generate.staging import stage_ct_configs
from medskills.synthesis.paired_ct.staging import build_ct_command

__all__ = ["run_ct_synthesis"]

logger = logging.getLogger(__name__)


def _request_section(
    request: CTRunRequest, overrides: dict[str, JsonValue], preflight: CTPreflight
) -> CTRequestSection:
    settings = preflight.settings
    return CTRequestSection(
        config_path=request.config_path, config_overrides=overrides, version=request.version,
        random_seed=request.random_seed, is_preflight_only=request.is_preflight_only,
        timeout_seconds=request.timeout_seconds, settings=settings,
        anatomy_list_requested=settings.anatomy_list if settings else [],
        effective_anatomy_for_output=settings.effective_anatomy if settings else [],
        mask_path=settings.mask_path if settings else None,
        expected_output_label_mapping=label_mapping(settings, preflight.table) if settings else [],
    )


def _model_section(version: CTVersion) -> ModelSection:
    entry, pinned = skill_assets(SkillId.SYNTH_CT), resolve_version(SkillId.SYNTH_CT, version.value)
    revisions = sorted({f.revision for f in pinned.files})
    return ModelSection(
        name=f"NVIDIA-Medtech/NV-Generate-CTMR ({version.value})", version=version, upstream_repo=entry.upstream.url,
        pinned_upstream_commit=pinned.upstream_commit, weights_repos=sorted({f.repo_id for f in pinned.files}),
        weights_revision=revisions[0] if len(revisions) == 1 else None,
        licences=sorted({entry.upstream.licence, *(f.licence for f in pinned.files)}),
    )


def _log_preflight(report: PreflightReport) -> None:
    if report.cost is not None:
        logger.info("cost estimate: ~%.0f s wall, ~%.1f GB VRAM peak, ~%.0f MB disk", report.cost.wall_seconds,
                    report.cost.peak_vram_gb, report.cost.disk_mb)


def run_ct_synthesis(
    request: CTRunRequest, *, settings: Settings, runner: Runner = run_upstream, device: DeviceInfo | None = None,
    expected_sha256: dict[str, str] | None = None,
) -> CTSynthesisRecord:
    """Run one paired CT request and return its record (also ``OUT/result.json`` on every outcome).

    ``runner`` executes the upstream command (tests pass a stand-in); ``device`` defaults to what torch
    reports; ``expected_sha256`` replaces the weight pins of ``core.assets`` (keyed by file name).

    Raises:
        UsageError: the override file is unreadable, or ``--output-dir`` is refused (nothing is touched then).
    """
    return run_command(RunOptions.of(request), lambda: _prepare(request, settings=settings, runner=runner, device=device,
                                                 expected_sha256=expected_sha256))


def _prepare(
    request: CTRunRequest, *, settings: Settings, runner: Runner, device: DeviceInfo | None,
    expected_sha256: dict[str, str] | None,
) -> PreparedRun[CTSynthesisRecord]:
    overrides = load_overrides(request.config_path)
    started_at = utc_now()
    device = device or detect_device()
    preflight = run_ct_preflight(request, overrides, settings=settings, device=device,
                                 expected_sha256=expected_sha256)
    _log_preflight(preflight.report)
    record = CTSynthesisRecord(
        status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=started_at, finished_at=utc_now(),
        output_dir=Path(request.output_dir).absolute(), preflight=preflight.report,
        model=_model_section(request.version), request=_request_section(request, overrides, preflight),
        provenance=collect_provenance(upstream_root=preflight.upstream_root, weights=preflight.weights, device=device),
    )
    inference = preflight.settings
    mapping = label_mapping(inference, preflight.table) if inference is not None else []
    return PreparedRun(
        record=record,
        run_step=lambda ready, output_dir: _run_and_record(request, ready, preflight, output_dir, runner),
        plan_card=PlanCard(
            title=f"Plan: synthetic CT with paired labels ({request.version.value})",
            request_rows=_plan_rows(record), label_header=["output id", "MAISI id", "anatomy"],
            label_rows=[[str(m.output_label_id), str(m.maisi_label_id), m.anatomy] for m in mapping]),
    )


def _plan_rows(record: CTSynthesisRecord) -> list[list[str]]:
    request = record.request
    rows = [["version", request.version.value], ["config", str(request.config_path or "default")],
            ["random seed", str(request.random_seed)], ["overrides", str(request.config_overrides or "none")]]
    if request.settings is not None:
        settings = request.settings
        rows += [["mask path", settings.mask_path.value], ["output size", str(list(settings.output_size))],
                 ["spacing (mm)", str(list(settings.spacing_mm))], ["steps", str(settings.num_inference_steps)],
                 ["samples", str(settings.num_output_samples)]]
    return rows


def _run_and_record(
    request: CTRunRequest, record: CTSynthesisRecord, preflight: CTPreflight, output_dir: Path, runner: Runner,
) -> CTSynthesisRecord:
    settings, root, data_root = preflight.settings, preflight.upstream_root, preflight.data_root
    assert settings is not None and root is not None and data_root is not None  # guaranteed by preflight
    staged = stage_ct_configs(request.version, settings, root=root, data_root=data_root, base_config=preflight.base_config,
                              output_dir=output_dir)
    command = build_ct_command(request, staged, root=root, data_root=data_root, output_dir=output_dir,
                               is_inventory_complete=preflight.is_inventory_complete)
    started_epoch = time.time()
    invocation = runner(command)
    scan = scan_outputs(output_dir, started_epoch=started_epoch, image_ext=settings.image_output_ext,
                        label_ext=settings.label_output_ext)
    mapping = label_mapping(settings, preflight.table)
    measured = []
    for index, (image_path, label_path) in enumerate(scan.pairs):
        pair = describe_sample(image_path, label_path, mapping)
        measured.append(pair if index < MAX_PANELS else replace(pair, image=None, labels=None))
    condition_path = Path(staged.environment_config.get("all_anatomy_size_conditions_json", ""))  # type: ignore[arg-type]
    output = summarize_outputs(
        output_dir=output_dir, samples=[pair.evidence for pair in measured], ignored=scan.ignored, mapping=mapping,
        settings=settings, log_text=_full_log(invocation), staged_inference=staged.inference_path,
        staged_environment=staged.environment_path, corrections=list(staged.corrections),
        anatomy_size_condition=compute_anatomy_size_condition(settings, condition_path),
    )
    gates = CT_GATES.evaluate(CTGateContext(invocation=invocation, output=output,
                                            expected_samples=settings.num_output_samples))
    status, exit_code, reasons = run_outcome(invocation, gates)
    result = record.with_updates(
        status=status, exit_code=exit_code, invocation=invocation, output=output, gates=gates,
        failure_reasons=reasons, artifacts=[a for s in output.samples for a in (s.image, s.label) if a is not None],
    )
    if request.has_summary_card:
        card_path, card_error = write_ct_card(result, output_dir, measured)
        result = result.with_updates(card_path=card_path, card_error=card_error)
    return result


def _full_log(invocation: Invocation) -> str:
    """The whole upstream stdout (the log file), falling back to the recorded tail."""
    path = invocation.logs.stdout_path
    if path is not None and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8", errors="replace")
    return invocation.logs.stdout_tail
