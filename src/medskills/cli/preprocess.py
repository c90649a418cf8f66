"""`medskills preprocess brain T1 --output-dir OUT` and `medskills preprocess brain-revert`."""

from __future__ import annotations

from pathlib import Path

import typer

from medskills.cli._common import OutputDirOption, emit, run_guarded

preprocess_app = typer.Typer(no_args_is_help=True, help="Prepare inputs the way the upstream models expect.")


@preprocess_app.command("brain")
def brain_command(
    image: Path = typer.Argument(..., help="T1-weighted head MRI (NIfTI), with skull."),
    *,
    output_dir: OutputDirOption,
) -> None:
    """Skull strip (deepbrain), N4, white-matter normalise, 1 mm, affine to MNI ICBM152; record how to revert."""
    from medskills.segmentation.brain_preprocess import BrainPreprocessRequest, preprocess_brain

    request = BrainPreprocessRequest(image_path=image, output_dir=output_dir)
    emit(run_guarded(lambda: preprocess_brain(request)))


@preprocess_app.command("brain-revert")
def brain_revert_command(
    volume: Path = typer.Argument(..., help="Image or label map on the template grid (e.g. a segmentation)."),
    meta: Path = typer.Option(..., "--meta", help="preprocess_meta.json of the `preprocess brain` run."),
    output: Path = typer.Option(..., "--output", "-o", help="New NIfTI file on the input grid."),
    is_label_map: bool = typer.Option(True, "--label/--image", help="Nearest neighbour (labels) or linear (images)."),
) -> None:
    """Map an image or label map from the template grid back onto the original input grid."""
    from medskills.segmentation.brain_preprocess import BrainRevertRequest, revert_brain_volume

    request = BrainRevertRequest(volume_path=volume, metadata_path=meta, output_path=output, is_label_map=is_label_map)
    emit(run_guarded(lambda: revert_brain_volume(request)))
