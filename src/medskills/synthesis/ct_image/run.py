"""CT image-only synthesis through ``scripts.diff_model_infer`` (``rflow-ct`` or ``ddpm-ct``), no mask.

Upstream checks CT geometry itself (``check_input_ct``) but only after loading the weights; the same
rules run here first. The seed is staged into the model config (no seed flag upstream); modality is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from medskills.core.skills import SkillId
from medskills.core.errors import ExitCode
from medskills.core.models import CostEstimate, FrozenModel, RunRecord, Status, utc_now
from medskills.core.preflight import PreflightCollector, check_gpu, check_unknown_keys
from medskills.core.provenance import DeviceInfo, collect_provenance, detect_device
from medskills.core.plan_card import PlanCard
from medskills.core.run import PreparedRun, RunOptions, run_command
from medskills.core.settings import Settings
from medskills.core.upstream import Runner, run_upstream
from medskills.synthesis.nv_generate.cost import estimate_ct_cost
from medskills.synthesis.nv_generate.config_rules import (
    MIN_FOV_MM, OUTPUT_XY_SIZES, OUTPUT_Z_SIZES, RECOMMENDED_BODY_FOV_MM, SPACING_XY_RANGE_MM, SPACING_Z_RANGE_MM,
)
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings
from medskills.synthesis.diff_model.staging import (
    DIFF_MODEL_ENTRYPOINT, DiffModelInference, StagedDiffModel, diff_model_facts, read_inference_defaults,
    read_override_file,
)
from medskills.synthesis.diff_model.run import run_diff_model
from medskills.synthesis.nv_generate.image_evidence import ImageKind, ImageOutputSummary, write_image_card
from medskills.synthesis.nv_generate.checks import (
    check_diff_model_weights, check_guidance, check_steps, check_upstream_commit, check_upstream_requirements,
    is_finite_number, is_integer_value, resolve_generate_root,
)

__all__ = ["CTImageRecord", "CTImageRequest", "generate_ct_image"]

OVERRIDE_KEYS = ("dim", "spacing", "num_inference_steps", "cfg_guidance_scale", "top_region_index",
                 "bottom_region_index")
CT_MODALITY = 1
CT_WINDOW_HU = (-1000.0, 1000.0)


class CTImageRequest(FrozenModel):
    """One ``synth ct-image`` invocation. ``config_path`` None means the upstream defaults."""

    config_path: Path | None = None
    output_dir: Path
    version: CTVersion = CTVersion.RFLOW_CT
    random_seed: int = 0
    is_preflight_only: bool = False
    is_cost_confirmed: bool = False
    timeout_seconds: float = Field(default=3600.0, gt=0)
    has_summary_card: bool = True

    @classmethod
    def from_cli(cls, config: str, **options: object) -> CTImageRequest:
        """Build from the positional ``CONFIG.json|default`` argument and the options."""
        return cls.model_validate({"config_path": None if config == "default" else Path(config), **options})


class CTImageRecord(RunRecord):
    """Evidence of one CT image-only run."""

    skill: str = "nv-generate-ct-rflow"
    mode: str = "ct-image"
    version: CTVersion
    entrypoint: str = f"python -m {DIFF_MODEL_ENTRYPOINT}"
    overrides: dict[str, Any]
    defaults_source: str
    inference: DiffModelInference | None = None
    staging: StagedDiffModel | None = None
    output: ImageOutputSummary | None = None


def _check_geometry(collector: PreflightCollector, dim: Any, spacing: Any) -> bool:
    """Upstream's ``check_input_ct`` sets plus the FOV rule; True when both are valid."""
    is_dim_ok = isinstance(dim, list) and len(dim) == 3 and all(is_integer_value(v) for v in dim) and (
        dim[0] == dim[1] and dim[0] in OUTPUT_XY_SIZES and dim[2] in OUTPUT_Z_SIZES)
    if not is_dim_ok:
        collector.error("bad_dim", f"dim {dim!r} is not a CT size: x must equal y and be one of "
                        f"{list(OUTPUT_XY_SIZES)}; z one of {list(OUTPUT_Z_SIZES)}.", field="dim",
                        fix="for example [256, 256, 128] or [512, 512, 128]")
    is_spacing_ok = isinstance(spacing, list) and len(spacing) == 3 and all(is_finite_number(v) for v in spacing) and (
        spacing[0] == spacing[1] and SPACING_XY_RANGE_MM[0] <= spacing[0] <= SPACING_XY_RANGE_MM[1]
        and SPACING_Z_RANGE_MM[0] <= spacing[2] <= SPACING_Z_RANGE_MM[1])
    if not is_spacing_ok:
        collector.error("bad_spacing", f"spacing {spacing!r} mm is not a CT spacing: x must equal y within "
                        f"{list(SPACING_XY_RANGE_MM)}; z within {list(SPACING_Z_RANGE_MM)}.", field="spacing",
                        fix="for example [1.5, 1.5, 2.0]")
    if not (is_dim_ok and is_spacing_ok):
        return False
    fov = dim[0] * spacing[0]
    if fov < MIN_FOV_MM:
        collector.error("fov_too_small", f"field of view {fov:g} mm (dim[0] x spacing[0]) is below {MIN_FOV_MM:g} mm.",
                        field="dim", fix="raise dim[0] or spacing[0] so their product is >= 256 mm")
        return False
    if fov < RECOMMENDED_BODY_FOV_MM:
        collector.warning("fov_small_for_body", f"field of view {fov:g} mm is below the {RECOMMENDED_BODY_FOV_MM:g} mm "
                          "recommended for body CT; output may be out of distribution.", field="dim")
    return True


def _check_scalars(collector: PreflightCollector, merged: dict[str, Any]) -> None:
    check_steps(collector, merged["num_inference_steps"], fix="rflow-ct uses 30, ddpm-ct 1000")
    check_guidance(collector, merged["cfg_guidance_scale"], fix="upstream ships 0 for CT")
    for key in ("top_region_index", "bottom_region_index"):
        value = merged[key]
        if not (isinstance(value, list) and len(value) == 4 and all(v in (0, 1) and is_integer_value(v) for v in value)):
            collector.error("region_index_invalid", f"{key} must be 4 values of 0 or 1 (head, chest, abdomen, "
                            f"pelvis), got {value!r}.", field=key, fix="for example [0, 1, 0, 0]")


def _validate(collector: PreflightCollector, overrides: dict[str, Any], unknown: list[str], *,
              defaults: DiffModelInference, random_seed: int) -> DiffModelInference | None:
    check_unknown_keys(collector, unknown, OVERRIDE_KEYS, where="the CT image-only config")
    merged = {**defaults.model_dump(mode="json"), **overrides}
    is_geometry_ok = _check_geometry(collector, merged["dim"], merged["spacing"])
    _check_scalars(collector, merged)
    if not is_geometry_ok or collector.has_request_errors:
        return None
    return DiffModelInference.model_validate({**merged, "modality": CT_MODALITY, "random_seed": random_seed})


def _estimate(inference: DiffModelInference, version: CTVersion) -> CostEstimate:
    """The paired-CT estimator (same UNet and decoder sizes) on the requested grid."""
    settings = InferenceSettings.model_validate({
        **{key: value for key, value in DEFAULT_CONFIG_INFER.items() if key != "spacing"},
        "output_size": inference.dim, "spacing_mm": inference.spacing, "controllable_anatomy_size": [],
        "num_inference_steps": inference.num_inference_steps, "cfg_guidance_scale": inference.cfg_guidance_scale,
    })
    return estimate_ct_cost(settings, version)


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
    defaults = read_inference_defaults(facts, root)
    inference = _validate(collector, overrides, unknown, defaults=defaults.inference, random_seed=request.random_seed)
    check_upstream_commit(collector, root, skill=SkillId.SYNTH_CT, version=request.version.value)
    check_upstream_requirements(collector, root)
    weights = check_diff_model_weights(collector, settings, facts, root, skill=SkillId.SYNTH_CT,
                                       expected_sha256=expected_sha256)
    device = device or detect_device()
    check_gpu(collector, settings, device, needed_for="CT image generation")
    cost = _estimate(inference, request.version) if inference is not None else None
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
                                       subtitle="nv-generate-ct-rflow · ct-image", status=finished.status,
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
