"""CT image-only synthesis through ``scripts.diff_model_infer`` (``rflow-ct`` or ``ddpm-ct``), no mask.

Upstream checks CT geometry itself (``check_input_ct``) but only after loading the weights; the same
rules run here first. The seed is staged into the model config (no seed flag upstream); modality is 1.
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
from medskills.core.skills import SkillId
from medskills.core.upstream import Runner, run_upstream
from medskills.synthesis.ct_image.record import CTImageRecord
from medskills.synthesis.ct_image.request import (
    OVERRIDE_KEYS, CTImageRequest, estimate_ct_image_cost, validate_ct_image_overrides,
)
from medskills.synthesis.diff_model.run import run_diff_model
from medskills.synthesis.diff_model.staging import diff_model_facts, read_inference_defaults
from medskills.synthesis.nv_generate.request import read_override_file
from medskills.synthesis.nv_generate.checks import (
    check_diff_model_weights, check_upstream_commit, check_upstream_requirements, resolve_generate_root,
)
from medskills.synthesis.nv_generate.image_evidence import ImageKind
from medskills.synthesis.nv_generate.image_card import write_image_card

__all__ = ["generate_ct_image"]

CT_WINDOW_HU = (-1000.0, 1000.0)


def generate_ct_image(
    request: CTImageRequest, *, settings: Settings, runner: Runner = run_upstream, device: DeviceInfo | None = None,
    expected_sha256: dict[str, str] | None = None,
) -> CTImageRecord:
    """Validate, then (unless preflight-only) generate one CT volume without a mask and grade it.

    Returns:
        The record (also ``OUT/result.json`` on every outcome, ``core.run``): exit 2 for refusals, 1 when
        upstream or a gate failed, 124 on timeout.

    Raises:
        UsageError: the config file cannot be read, or ``--output-dir`` is refused.
    """
    return run_command(RunOptions.of(request), lambda: _prepare(request, settings=settings, runner=runner, device=device,
                                                 expected_sha256=expected_sha256))


def _prepare(
    request: CTImageRequest, *, settings: Settings, runner: Runner, device: DeviceInfo | None,
    expected_sha256: dict[str, str] | None,
) -> PreparedRun[CTImageRecord]:
    started_at = utc_now()
    overrides, unknown = ({}, []) if request.config_path is None else read_override_file(
        request.config_path, allowed_keys=OVERRIDE_KEYS)
    collector = PreflightCollector()
    facts = diff_model_facts(request.version.value)
    root = resolve_generate_root(collector, settings)
    defaults = read_inference_defaults(collector, facts, root)
    inference = validate_ct_image_overrides(collector, overrides, unknown, defaults=defaults.inference, random_seed=request.random_seed)
    check_upstream_commit(collector, root, skill=SkillId.SYNTH_CT, version=request.version.value)
    check_upstream_requirements(collector, root)
    weights = check_diff_model_weights(collector, settings, facts, root, skill=SkillId.SYNTH_CT,
                                       expected_sha256=expected_sha256)
    device = device or detect_device()
    check_gpu(collector, settings, device, needed_for="CT image generation")
    cost = estimate_ct_image_cost(inference, request.version) if inference is not None else None
    record = CTImageRecord(
        status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=started_at, finished_at=utc_now(),
        output_dir=Path(request.output_dir).absolute(), preflight=collector.report(cost=cost),
        version=request.version, overrides=overrides, defaults_source=defaults.source, inference=inference,
        provenance=collect_provenance(upstream_root=root, weights=weights, device=device),
    )

    def run_step(ready: CTImageRecord, output_dir: Path) -> CTImageRecord:
        assert root is not None and inference is not None  # a ready preflight
        run = run_diff_model(facts, upstream_root=root, output_dir=output_dir,
                             output_prefix=f"ct_image_{request.version.value}", inference=inference,
                             kind=ImageKind.CT, settings=settings, runner=runner,
                             timeout_seconds=request.timeout_seconds)
        finished = ready.with_updates(**run.record_updates(output_dir))
        if not request.has_summary_card:
            return finished
        rows = [*_request_rows(finished), ["exit code", str(finished.exit_code)]]
        path, error = write_image_card(output_dir, title=f"Synthetic CT, image only ({request.version.value})",
                                       subtitle=f"{SkillId.SYNTH_CT} · ct-image", status=finished.status,
                                       output=finished.output, request_rows=rows, gates=finished.gates,
                                       window=CT_WINDOW_HU)
        return finished.with_updates(card_path=path, card_error=error)

    return PreparedRun(record=record, run_step=run_step, plan_card=PlanCard(
        title=f"Plan: synthetic CT, image only ({request.version.value})", request_rows=_request_rows(record)))


def _request_rows(record: CTImageRecord) -> list[list[str]]:
    inference = record.inference
    rows = [["version", record.version.value], ["overrides", str(record.overrides or "none (defaults)")],
            ["defaults from", record.defaults_source]]
    if inference is not None:
        rows += [["dim", str(inference.dim)], ["spacing (mm)", str(inference.spacing)],
                 ["steps", str(inference.num_inference_steps)], ["random seed", str(inference.random_seed)]]
    return rows
