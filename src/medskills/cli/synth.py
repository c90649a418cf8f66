"""`medskills synth ...` and `medskills anatomy ...` commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from medskills.cli._common import OutputDirOption, PreflightOnlyOption, emit, emit_run, run_as_script, run_guarded
from medskills.cli._progress import progress_runner
from medskills.core.label_spaces import LabelSpace
from medskills.core.models import RunRecord
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.synthesis.nv_generate.anatomy import REGION_NAMES
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.paired_ct.request import CTRunRequest

synth_app = typer.Typer(no_args_is_help=True)
anatomy_app = typer.Typer(no_args_is_help=True)

RequestT = TypeVar("RequestT")

# Options the synthesis commands share, declared once so their flags and help cannot drift apart.
CostConfirmedOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Accept a run above the cost limits (300 s, 30 GB).")
]
UpstreamTimeoutOption = Annotated[float, typer.Option("--timeout-seconds", help="Kill upstream after this long.")]
NoSummaryCardOption = Annotated[bool, typer.Option("--no-summary-card", help="Skip summary.html.")]
UpstreamSeedOption = Annotated[int, typer.Option("--random-seed", "-s", help="Passed to upstream --random-seed.")]
StagedSeedOption = Annotated[int, typer.Option("--random-seed", "-s", help="Staged into the model config.")]
CTVersionOption = Annotated[CTVersion, typer.Option("--version", help="Model version.")]
MRModalityOption = Annotated[MRBrainModality | None, typer.Option(
    "--modality", case_sensitive=False,
    help="MR contrast, case-insensitive (default: the config's modality, else mri_t1).")]


def _run(
    generate: Callable[..., RunRecord], build_request: Callable[[], RequestT], *, is_preflight_only: bool,
    success_hint: str = "",
) -> NoReturn:
    """Build the request (a bad option exits 2), run the command with live progress, emit its record."""
    from medskills.core.settings import load_settings

    request = run_guarded(build_request)
    emit_run(run_guarded(lambda: generate(request, settings=load_settings(), runner=progress_runner())),
             is_preflight_only=is_preflight_only, success_hint=success_hint)


@synth_app.command("mr-brain")
def mr_brain_command(
    config: Annotated[str, typer.Argument(help="Override JSON for the MR-brain model config, or 'default'.")],
    output_dir: OutputDirOption,
    modality: MRModalityOption = None,
    random_seed: StagedSeedOption = 1234,
    yes: CostConfirmedOption = False,
    preflight_only: PreflightOnlyOption = False,
    timeout_seconds: UpstreamTimeoutOption = 3600.0,
    no_summary_card: NoSummaryCardOption = False,
) -> None:
    """Synthetic brain MRI with NV-Generate-CTMR rflow-mr-brain (image only)."""
    from medskills.synthesis.mr_brain.request import MRBrainRequest
    from medskills.synthesis.mr_brain.run import generate_mr_brain

    _run(generate_mr_brain, lambda: MRBrainRequest.from_cli(
        config, output_dir=output_dir, modality=modality.value if modality else None, random_seed=random_seed,
        is_cost_confirmed=yes, is_preflight_only=preflight_only, timeout_seconds=timeout_seconds,
        has_summary_card=not no_summary_card),
        is_preflight_only=preflight_only, success_hint=f"medskills verify mr-synthesis {output_dir}")


@synth_app.command("ct")
def ct_command(
    config: Annotated[str, typer.Argument(help="Override JSON for upstream configs/config_infer.json, or 'default'.")],
    output_dir: OutputDirOption,
    random_seed: UpstreamSeedOption = 0,
    version: CTVersionOption = CTVersion.RFLOW_CT,
    yes: CostConfirmedOption = False,
    preflight_only: PreflightOnlyOption = False,
    timeout_seconds: UpstreamTimeoutOption = 3600.0,
    no_summary_card: NoSummaryCardOption = False,
) -> None:
    """Synthetic CT with a paired label mask (NV-Generate-CTMR scripts.inference)."""
    from medskills.synthesis.paired_ct.run import run_ct_synthesis

    _run(run_ct_synthesis, lambda: CTRunRequest.from_cli(
        config, output_dir=output_dir, random_seed=random_seed, version=version, is_cost_confirmed=yes,
        is_preflight_only=preflight_only, timeout_seconds=timeout_seconds, has_summary_card=not no_summary_card),
        is_preflight_only=preflight_only, success_hint=f"medskills verify ct-synthesis {output_dir}")


@anatomy_app.command("list")
def anatomy_list_command(
    region: str | None = typer.Option(None, "--region", "-r", metavar=f"[{'|'.join(REGION_NAMES)}]",
                                      help="Display region, any letter case; thorax is chest."),
    controllable: bool = typer.Option(False, "--controllable", help="Only the 10 size-controllable anatomies."),
    name_filter: str | None = typer.Option(None, "--filter", "-f", help="Case-insensitive substring of the name."),
) -> None:
    """List MAISI anatomy names usable in anatomy_list (upstream's label_dict.json when a clone is found)."""
    from medskills.core.settings import load_settings
    from medskills.synthesis.nv_generate.anatomy import list_anatomies_for_settings

    emit(run_guarded(lambda: list_anatomies_for_settings(load_settings(), region=region,
                                                         is_controllable_only=controllable, name_filter=name_filter)),
         exit_code=0)


def run_ct_script() -> None:
    """Entry point of skills/nv-generate-ct-rflow/scripts/run_rflow_ct.py (the seed command line)."""
    run_as_script(ct_command)


def list_anatomies_script() -> None:
    """Entry point of skills/nv-generate-ct-rflow/scripts/list_anatomies.py."""
    run_as_script(anatomy_list_command)


@synth_app.command("ct-from-mask")
def ct_from_mask_command(
    request_path: Annotated[Path, typer.Argument(help="Request JSON with mask_path (or a mask NIfTI itself).")],
    output_dir: OutputDirOption,
    random_seed: UpstreamSeedOption = 0,
    source_labels: Annotated[LabelSpace, typer.Option(
        "--source-labels", case_sensitive=False,
        help="Label space of the mask (converted to MAISI by anatomy name).")] = LabelSpace.MAISI,
    add_body_envelope: Annotated[Path | None, typer.Option(
        "--add-body-envelope", help="Paired CT: derive body 200.")] = None,
    allow_missing_body_label: Annotated[bool, typer.Option(
        "--allow-missing-body-label", help="Accept no body 200.")] = False,
    yes: CostConfirmedOption = False,
    preflight_only: PreflightOnlyOption = False,
    timeout_seconds: UpstreamTimeoutOption = 3600.0,
) -> None:
    """Synthetic CT generated from a label mask (NV-Generate-CTMR scripts.infer_image_from_mask)."""
    from medskills.synthesis.ct_from_mask.request import CTFromMaskRequest
    from medskills.synthesis.ct_from_mask.run import generate_ct_from_mask

    _run(generate_ct_from_mask, lambda: CTFromMaskRequest.from_cli(
        request_path=request_path, output_dir=output_dir, random_seed=random_seed, source_labels=source_labels.value,
        body_envelope_ct=add_body_envelope, allow_missing_body_label=allow_missing_body_label,
        is_cost_confirmed=yes, is_preflight_only=preflight_only, timeout_seconds=timeout_seconds),
        is_preflight_only=preflight_only)


@synth_app.command("ct-image")
def ct_image_command(
    config: Annotated[str, typer.Argument(help="Override JSON for the diffusion model config, or 'default'.")],
    output_dir: OutputDirOption,
    version: CTVersionOption = CTVersion.RFLOW_CT,
    random_seed: StagedSeedOption = 0,
    yes: CostConfirmedOption = False,
    preflight_only: PreflightOnlyOption = False,
    timeout_seconds: UpstreamTimeoutOption = 3600.0,
    no_summary_card: NoSummaryCardOption = False,
) -> None:
    """Synthetic CT image without a mask (NV-Generate-CTMR scripts.diff_model_infer)."""
    from medskills.synthesis.ct_image.request import CTImageRequest
    from medskills.synthesis.ct_image.run import generate_ct_image

    _run(generate_ct_image, lambda: CTImageRequest.from_cli(
        config, output_dir=output_dir, version=version, random_seed=random_seed, is_cost_confirmed=yes,
        is_preflight_only=preflight_only, timeout_seconds=timeout_seconds, has_summary_card=not no_summary_card),
        is_preflight_only=preflight_only)


@synth_app.command("ct-mask")
def ct_mask_command(
    config: Annotated[str, typer.Argument(help="Mask request JSON (controllable_anatomy_size, ...), or 'default'.")],
    output_dir: OutputDirOption,
    random_seed: Annotated[int, typer.Option(
        "--random-seed", "-s", help="Seed of the first mask (+i for mask i).")] = 0,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Required to run: each mask is a 1000-step DDPM.")] = False,
    preflight_only: PreflightOnlyOption = False,
    timeout_seconds: Annotated[float, typer.Option(
        "--timeout-seconds", help="Kill the runner after this long.")] = 3600.0,
) -> None:
    """Synthetic CT anatomy masks only (NV-Generate-CTMR mask diffusion model), in MAISI ids."""
    from medskills.synthesis.ct_mask.request import CTMaskRequest
    from medskills.synthesis.ct_mask.run import generate_ct_masks

    _run(generate_ct_masks, lambda: CTMaskRequest.from_cli(
        config, output_dir=output_dir, random_seed=random_seed, is_cost_confirmed=yes,
        is_preflight_only=preflight_only, timeout_seconds=timeout_seconds),
        is_preflight_only=preflight_only)


def mr_brain_script() -> None:
    """Entry point of skills/nv-generate-mr-brain/scripts/run_mr_brain.py."""
    run_as_script(mr_brain_command)


def ct_from_mask_script() -> None:
    """Entry point of skills/nv-generate-ct-rflow/scripts/run_ct_from_mask.py."""
    run_as_script(ct_from_mask_command)


def ct_image_script() -> None:
    """Entry point of skills/nv-generate-ct-rflow/scripts/run_ct_image.py."""
    run_as_script(ct_image_command)


def ct_mask_script() -> None:
    """Entry point of skills/nv-generate-ct-rflow/scripts/run_ct_mask.py."""
    run_as_script(ct_mask_command)
