"""`medskills verify` commands: grade a run directory (or a mask) and print the verdict as JSON."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from medskills.cli._common import OptionalOutputDirOption, emit, emit_run, run_as_script, run_guarded
from medskills.cli._progress import with_progress
from medskills.core.errors import UsageError
from medskills.core.label_spaces import LabelSpace, SegmentationModality
from medskills.core.models import Status
from medskills.core.progress import OnProgress

if TYPE_CHECKING:
    from medskills.verification import Verdict, VerifierId

RequestT = TypeVar("RequestT", bound=BaseModel)

verify_app = typer.Typer(no_args_is_help=True, help="Re-read a run's files and grade them (exit 0 pass, 1 fail).")

_JSON_HELP = "Also write the verdict to this new file."


@verify_app.command("ct-synthesis")
def ct_synthesis_command(
    run_dir: Path = typer.Argument(..., help="Output directory of a CT synthesis run (holds result.json)."),
    json_path: Path | None = typer.Option(None, "--json", help=_JSON_HELP),
    output_dir: OptionalOutputDirOption = None,
) -> None:
    """Grade a paired CT image + label run (ct_synthesis_quality_v1)."""
    from medskills.verification import RunDirRequest, VerifierId, grade_ct_synthesis

    _verify(VerifierId.CT_SYNTHESIS, lambda: RunDirRequest(run_dir=run_dir), lambda _, progress: grade_ct_synthesis(run_dir, on_progress=progress),
            run_dir=run_dir, json_path=json_path, output_dir=output_dir)


@verify_app.command("mr-synthesis")
def mr_synthesis_command(
    run_dir: Path = typer.Argument(..., help="Output directory of a brain-MRI synthesis run (holds result.json)."),
    json_path: Path | None = typer.Option(None, "--json", help=_JSON_HELP),
    output_dir: OptionalOutputDirOption = None,
) -> None:
    """Grade a synthetic brain-MRI run (mr_synthesis_quality_v1)."""
    from medskills.verification import RunDirRequest, VerifierId, grade_mr_synthesis

    _verify(VerifierId.MR_SYNTHESIS, lambda: RunDirRequest(run_dir=run_dir), lambda _, progress: grade_mr_synthesis(run_dir, on_progress=progress),
            run_dir=run_dir, json_path=json_path, output_dir=output_dir)


@verify_app.command("segmentation")
def segmentation_command(
    run_dir: Path | None = typer.Argument(None, help="Output directory of a segmentation run; or use --prediction."),
    prediction: Path | None = typer.Option(None, "--prediction", help="A mask made elsewhere (no run record)."),
    image: Path | None = typer.Option(None, "--image", help="The image the mask belongs to (geometry check)."),
    prediction_labels: LabelSpace | None = typer.Option(None, "--prediction-labels", help="Label space of the mask."),
    modality: SegmentationModality | None = typer.Option(None, "--modality", case_sensitive=False,
                                                         help="Bundle modality of the mask (case-insensitive)."),
    ground_truth: Path | None = typer.Option(None, "--ground-truth", help="Reference label map (Dice, IoU, HD95)."),
    reference_labels: LabelSpace | None = typer.Option(None, "--reference-labels",
                                                       help="Label space of the reference."),
    dice_floor: list[str] = typer.Option([], "--dice-floor", help="NAME=MIN, e.g. liver=0.9 (repeatable)."),
    json_path: Path | None = typer.Option(None, "--json", help=_JSON_HELP),
    output_dir: OptionalOutputDirOption = None,
) -> None:
    """Grade a segmentation (ct_segmentation_quality_v1), across label spaces when the reference differs."""
    from medskills.verification import SegmentationVerifyRequest, VerifierId, grade_segmentation

    _verify(VerifierId.SEGMENTATION, lambda: SegmentationVerifyRequest(
        run_dir=run_dir, prediction=prediction, image=image, prediction_labels=prediction_labels, modality=modality,
        ground_truth=ground_truth, reference_labels=reference_labels, dice_floors=_floors(dice_floor)),
        lambda request, _: grade_segmentation(request), run_dir=run_dir, json_path=json_path, output_dir=output_dir)


@verify_app.command("ct-pair-consistency")
def ct_pair_consistency_command(
    run_dir: Path | None = typer.Argument(None, help="Output directory of a CT synthesis run; or use --image."),
    image: Path | None = typer.Option(None, "--image", help="A CT in HU (NIfTI)."),
    label: Path | None = typer.Option(None, "--label", help="Its label map, on the same grid."),
    label_space: LabelSpace | None = typer.Option(None, "--label-space", help="maisi, totalsegmentator or vista3d."),
    organ: list[str] = typer.Option([], "--organ", help="Measure only this organ, e.g. liver (repeatable)."),
    slices_per_organ: int | None = typer.Option(None, "--slices-per-organ", help="Default: the calibrated 3."),
    card: Path | None = typer.Option(None, "--card", help="Write a card (HTML): each organ's worst slice, outlines."),
    json_path: Path | None = typer.Option(None, "--json", help=_JSON_HELP),
    output_dir: OptionalOutputDirOption = None,
) -> None:
    """Does the CT show each organ where its labels draw it? LiteMedSAM Dice per organ (ct_pair_consistency_v1)."""
    from medskills.verification import PairConsistencyRequest, VerifierId, grade_ct_pair_consistency

    _verify(VerifierId.CT_PAIR_CONSISTENCY, lambda: PairConsistencyRequest(
        run_dir=run_dir, image=image, label=label, label_space=label_space, anatomies=organ or None,
        slices_per_organ=slices_per_organ, card=card),
        lambda request, progress: grade_ct_pair_consistency(request, on_progress=progress), run_dir=run_dir,
        json_path=json_path, output_dir=output_dir)


def _verify(verifier: VerifierId, build_request: Callable[[], RequestT],
            grade: Callable[[RequestT, OnProgress], Verdict], *, run_dir: Path | None, json_path: Path | None,
            output_dir: Path | None) -> NoReturn:
    """Build the request (a bad option: exit 2, nothing written), grade, and print the one JSON result.

    Without ``--output-dir`` stdout carries the verdict; with it, the run lifecycle owns the folder and
    stdout carries the run record (``output`` is the verdict). The volumes graded show as a bar on stderr.
    """
    from medskills.verification import verify_in_folder, write_verdict

    request = run_guarded(lambda: _request(build_request, json_path))
    if output_dir is None:
        _emit_verdict(run_guarded(lambda: _written(with_progress(partial(grade, request), unit="volumes"),
                                                   json_path)))
    record = run_guarded(lambda: with_progress(lambda progress: verify_in_folder(
        verifier, request, run_dir=run_dir, output_dir=output_dir, grade=lambda: grade(request, progress)),
        unit="volumes"))
    verdict = record.output
    if verdict is not None and json_path is not None:
        run_guarded(lambda: write_verdict(verdict, json_path))
    emit_run(record, is_preflight_only=False)


def _request(build_request: Callable[[], RequestT], json_path: Path | None) -> RequestT:
    """The verify request, or a UsageError naming every bad option; ``--json`` must be a new file."""
    try:
        request = build_request()
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in err.errors())
        raise UsageError(f"invalid verify request: {problems}") from err
    if json_path is not None and json_path.exists():
        raise UsageError(f"--json {json_path} already exists; verdicts never overwrite a file. Pass a new path.")
    return request


def _emit_verdict(verdict: Verdict) -> NoReturn:
    """The verdict on stdout; on stderr, its failed checks first and the next step."""
    failed = [(tier.name, item) for tier in verdict.tiers for item in tier.checks if item.status is Status.FAILED]
    lines = [f"{verdict.verifier}: {verdict.status.value}, exit {verdict.exit_code}"]
    lines += [f"  FAILED {index}. {tier}.{item.name}: {item.reason}" for index, (tier, item) in enumerate(failed, 1)]
    lines.append("  next: " + ("read each failed check's reason above; re-run the skill into a new folder once "
                               "fixed." if failed else "nothing to do: every check passed."))
    sys.stderr.write("\n".join(lines) + "\n")
    emit(verdict)


def _written(verdict: Verdict, json_path: Path | None) -> Verdict:
    from medskills.verification import write_verdict

    if json_path is not None:
        write_verdict(verdict, json_path)
    return verdict


def _floors(items: list[str]) -> dict[str, float]:
    floors = {}
    for item in items:
        name, separator, value = item.rpartition("=")
        try:
            floors[name.strip()] = float(value)
        except ValueError as err:
            raise UsageError(f"--dice-floor {item!r}: expected NAME=NUMBER, e.g. liver=0.9") from err
        if not separator or not name.strip():
            raise UsageError(f"--dice-floor {item!r}: expected NAME=NUMBER, e.g. liver=0.9")
    return floors


def grade_script(verifier: str) -> None:
    """Entry point of ``verifiers/<verifier>/scripts/grade.py``: the matching ``medskills verify`` command."""
    commands: dict[str, Callable[..., None]] = {
        "ct_synthesis_quality_v1": ct_synthesis_command,
        "mr_synthesis_quality_v1": mr_synthesis_command,
        "ct_segmentation_quality_v1": segmentation_command,
        "ct_pair_consistency_v1": ct_pair_consistency_command,
    }
    run_as_script(commands[verifier])
