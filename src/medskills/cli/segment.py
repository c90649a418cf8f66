"""`medskills segment ctmr IMAGE ...` and `medskills segment labels`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from medskills.cli._common import (
    OutputDirOption, PreflightOnlyOption, emit, emit_run, exit_with, run_as_script, run_guarded,
)
from medskills.cli._progress import progress_runner
from medskills.core.label_spaces import SegmentationModality

if TYPE_CHECKING:
    from medskills.segmentation import SegmentationRequest

segment_app = typer.Typer(no_args_is_help=True, help="CT/MRI segmentation through NV-Segment-CTMR (VISTA3D).")

_PROMPTS_HELP = 'Class ids or names, comma separated: "3,14" or "liver,spleen". Omit to segment everything.'


@segment_app.command("ctmr")
def ctmr_command(
    image: Path | None = typer.Argument(None, metavar="IMAGE", help="NIfTI file, or a folder holding one DICOM "
                                        "series (omit with --dicomweb)."),
    *,
    modality: SegmentationModality = typer.Option(..., "--modality", "-m", case_sensitive=False,
                                                  help="Bundle modality (case-insensitive)."),
    output_dir: OutputDirOption,
    label_prompts: str | None = typer.Option(None, "--label-prompts", "-p", help=_PROMPTS_HELP),
    ground_truth: Path | None = typer.Option(None, "--ground-truth", help="Label map recorded for the verifier."),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda:N (default: cuda:0 when available)."),
    output_type: str | None = typer.Option(None, "--output-type", help="nifti, dicom-seg or both (default: nifti "
                                           "for NIfTI input, both for a DICOM series)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Run even when the memory estimate exceeds free memory."),
    preflight_only: PreflightOnlyOption = False,
    timeout_seconds: float | None = typer.Option(None, "--timeout-seconds", help="Default: from the window count."),
    preprocess: bool = typer.Option(False, "--preprocess", help="MRI_BRAIN: run `preprocess brain` first and put the "
                                    "labels back on the input grid."),
    dicomweb: str | None = typer.Option(None, "--dicomweb", help="DICOMweb root to retrieve the series from "
                                        "(credentials: MEDSKILLS_DICOMWEB_USERNAME/_PASSWORD)."),
    study: str | None = typer.Option(None, "--study", help="StudyInstanceUID on the --dicomweb server."),
    series: str | None = typer.Option(None, "--series", help="SeriesInstanceUID (default: the study's one series "
                                      "of the modality)."),
    store: bool = typer.Option(False, "--store", help="With --dicomweb: STOW-RS the DICOM SEG back if the run passed."),
    keep_retrieved: bool = typer.Option(False, "--keep-retrieved", help="With --dicomweb: keep the retrieved "
                                        "instances in OUT/retrieved/."),
) -> None:
    """Segment one CT or MR volume with NV-Segment-CTMR."""
    from medskills.core.settings import load_settings
    from medskills.segmentation import SegmentationRequest, segment_ctmr

    image = _image_or_dicomweb(image, dicomweb=dicomweb, study=study, series=series, store=store,
                               keep_retrieved=keep_retrieved)
    request = run_guarded(lambda: SegmentationRequest.from_cli(
        image_path=image, modality=modality.value, output_dir=output_dir, prompts=label_prompts,
        ground_truth_path=ground_truth, device=device, output_type=output_type, is_confirmed=yes,
        is_preflight_only=preflight_only, timeout_seconds=timeout_seconds, is_brain_preprocessing=preprocess))
    if dicomweb is not None:
        _segment_from_dicomweb(request, url=dicomweb, study=study, series=series, store=store,
                               keep_retrieved=keep_retrieved)
    emit_run(run_guarded(lambda: segment_ctmr(request, settings=load_settings(), runner=progress_runner())),
             is_preflight_only=preflight_only, success_hint=f"medskills verify segmentation {output_dir}")


def _image_or_dicomweb(image: Path | None, *, dicomweb: str | None, study: str | None, series: str | None,
                       store: bool, keep_retrieved: bool) -> Path:
    """IMAGE, or (with --dicomweb) a placeholder the retrieved series folder replaces; bad combinations exit 2."""
    from medskills.core.errors import UsageError

    if dicomweb is not None:
        if image is not None or not study:
            exit_with(UsageError("with --dicomweb pass --study UID (and optionally --series UID), not IMAGE"))
        return Path(f"dicomweb-study-{study}")
    if study or series or store or keep_retrieved:
        exit_with(UsageError("--study, --series, --store and --keep-retrieved need --dicomweb URL"))
    if image is None:
        exit_with(UsageError("pass IMAGE (a NIfTI file or DICOM folder), or --dicomweb URL --study UID"))
    return image


def _segment_from_dicomweb(request: SegmentationRequest, *, url: str, study: str | None, series: str | None,
                           store: bool, keep_retrieved: bool) -> None:
    """Retrieve the series over DICOMweb, run the skill, and store the SEG back when asked."""
    from medskills.core.settings import load_settings
    from medskills.dicom.web import load_dicomweb_settings
    from medskills.segmentation.dicomweb import DicomWebSegmentationRequest, DicomWebSource, segment_ctmr_from_dicomweb

    remote = DicomWebSegmentationRequest(
        source=DicomWebSource(url=url, study_instance_uid=str(study), series_instance_uid=series,
                              is_store_requested=store, is_retrieval_kept=keep_retrieved), segmentation=request)
    emit(run_guarded(lambda: segment_ctmr_from_dicomweb(remote, settings=load_settings(), runner=progress_runner(),
                                                        dicomweb_settings=load_dicomweb_settings(url))))


@segment_app.command("labels")
def labels_command(
    modality: SegmentationModality | None = typer.Option(None, "--modality", "-m", case_sensitive=False,
                                                         help="Only this modality's everything set."),
    name_filter: str | None = typer.Option(None, "--filter", "-f", help="Case-insensitive substring of the name."),
) -> None:
    """List the class ids and names prompts can use (the bundle's own dictionary when it is installed)."""
    from medskills.core.settings import load_settings
    from medskills.segmentation import list_labels_for_settings

    chosen = modality.value if modality else None
    emit(run_guarded(lambda: list_labels_for_settings(load_settings(), modality=chosen, name_filter=name_filter)),
         exit_code=0)


def run_ctmr_script() -> None:
    """Entry point of skills/nv-segment-ctmr/scripts/run_ctmr.py (the seed command line)."""
    run_as_script(ctmr_command)
