"""`medskills synth ...` and `medskills anatomy ...` commands."""

from __future__ import annotations

from pathlib import Path

import typer

from medskills.cli._common import emit, run_guarded

synth_app = typer.Typer(no_args_is_help=True)
anatomy_app = typer.Typer(no_args_is_help=True)


_MR_MODALITY_HELP = ("MR contrast: mri, mri_t1, mri_t2, mri_flair, mri_swi, or one of those with _skull_stripped "
                     "(default: the config's modality, else mri_t1).")


@synth_app.command("mr-brain")
def mr_brain_command(
    config: str = typer.Argument(..., help="Override JSON for the MR-brain model config, or 'default'."),
    output_dir: Path = typer.Option(..., "--output-dir", "-o", help="New or empty folder for the run."),
    modality: str | None = typer.Option(None, "--modality", help=_MR_MODALITY_HELP),
    random_seed: int = typer.Option(1234, "--random-seed", "-s", help="Staged into the model config."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Accept a run above the cost limits (300 s, 30 GB)."),
    preflight_only: bool = typer.Option(False, "--preflight-only", help="Validate and estimate; run nothing."),
    timeout_seconds: float = typer.Option(3600.0, "--timeout-seconds", help="Kill upstream after this long."),
    no_summary_card: bool = typer.Option(False, "--no-summary-card", help="Skip summary.html."),
) -> None:
    """Synthetic brain MRI with NV-Generate-CTMR rflow-mr-brain (image only)."""
    from medskills.core.settings import load_settings
    from medskills.synthesis.mr_brain import MRBrainRequest, generate_mr_brain

    request = MRBrainRequest.from_cli(
        config, output_dir=output_dir, modality=modality, random_seed=random_seed, is_cost_confirmed=yes,
        is_preflight_only=preflight_only, timeout_seconds=timeout_seconds, has_summary_card=not no_summary_card,
    )
    emit(run_guarded(lambda: generate_mr_brain(request, settings=load_settings())))
