"""`medskills verify` commands: grade a run directory (or a mask) and print the verdict as JSON."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import ValidationError

from medskills.cli._common import emit, run_as_script, run_guarded
from medskills.core.errors import UsageError
from medskills.core.label_spaces import LabelSpace, SegmentationModality

if TYPE_CHECKING:
    from medskills.verification import SegmentationVerifyRequest, Verdict

verify_app = typer.Typer(no_args_is_help=True, help="Re-read a run's files and grade them (exit 0 pass, 1 fail).")

_JSON_HELP = "Also write the verdict to this new file."


@verify_app.command("ct-synthesis")
def ct_synthesis_command(
    run_dir: Path = typer.Argument(..., help="Output directory of a CT synthesis run (holds result.json)."),
    json_path: Path | None = typer.Option(None, "--json", help=_JSON_HELP),
) -> None:
    """Grade a paired CT image + label run (ct_synthesis_quality_v1)."""
    from medskills.verification import grade_ct_synthesis

    _emit_verdict(run_guarded(lambda: _written(grade_ct_synthesis(run_dir), json_path)))


@verify_app.command("mr-synthesis")
def mr_synthesis_command(
    run_dir: Path = typer.Argument(..., help="Output directory of a brain-MRI synthesis run (holds result.json)."),
    json_path: Path | None = typer.Option(None, "--json", help=_JSON_HELP),
) -> None:
    """Grade a synthetic brain-MRI run (mr_synthesis_quality_v1)."""
    from medskills.verification import grade_mr_synthesis

    _emit_verdict(run_guarded(lambda: _written(grade_mr_synthesis(run_dir), json_path)))


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
) -> None:
    """Grade a segmentation (ct_segmentation_quality_v1), across label spaces when the reference differs."""
    from medskills.verification import grade_segmentation

    def action() -> Verdict:
        request = _segmentation_request(run_dir=run_dir, prediction=prediction, image=image,
                             prediction_labels=prediction_labels, modality=modality, ground_truth=ground_truth,
                             reference_labels=reference_labels, dice_floors=_floors(dice_floor))
        return _written(grade_segmentation(request), json_path)

    _emit_verdict(run_guarded(action))


def _emit_verdict(verdict: Verdict) -> None:
    """The verdict on stdout; on stderr, its failed checks first and the next step."""
    failed = [(tier.name, item) for tier in verdict.tiers for item in tier.checks if item.status.value == "failed"]
    lines = [f"{verdict.verifier}: {verdict.status.value}, exit {verdict.exit_code}"]
    lines += [f"  FAILED {index}. {tier}.{item.name}: {item.reason}" for index, (tier, item) in enumerate(failed, 1)]
    lines.append("  next: " + ("read each failed check's reason above; re-run the skill into a new folder once "
                               "fixed." if failed else "nothing to do: every check passed."))
    sys.stderr.write("\n".join(lines) + "\n")
    emit(verdict)


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
) -> None:
    """Does the CT show each organ where its labels draw it? LiteMedSAM Dice per organ (ct_pair_consistency_v1)."""
    from medskills.verification import PairConsistencyRequest, grade_ct_pair_consistency

    def action() -> Verdict:
        try:
            request = PairConsistencyRequest(run_dir=run_dir, image=image, label=label, label_space=label_space,
                                             anatomies=organ or None, slices_per_organ=slices_per_organ,
                                             card=card)
        except ValidationError as err:
            raise UsageError(f"invalid verify request: {err.errors()[0]['msg']}") from err
        return _written(grade_ct_pair_consistency(request), json_path)

    emit(run_guarded(action))


def _written(verdict: Verdict, json_path: Path | None) -> Verdict:
    from medskills.verification import write_verdict

    if json_path is not None:
        write_verdict(verdict, json_path)
    return verdict


def _segmentation_request(**values: Any) -> SegmentationVerifyRequest:
    from medskills.verification import SegmentationVerifyRequest

    try:
        return SegmentationVerifyRequest(**values)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in err.errors())
        raise UsageError(f"invalid verify request: {problems}") from err


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
