"""``medskills preprocess brain``: preflight, the recipe, gates, card and ``OUT/result.json``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from medskills.core.errors import ExitCode, MedskillsError, PreflightError
from medskills.core.io import prepare_output_dir, sha256_file
from medskills.core.models import Artifact, GateResult, Provenance, Status, WeightFile, utc_now
from medskills.core.preflight import PreflightCollector
from medskills.core.records import finish_run
from medskills.core.volumes import LoadedVolume, read_volume
from medskills.pretrained import DEEPBRAIN_WEIGHTS, DeepbrainModel, load_deepbrain
from medskills.segmentation.brain_preprocess.bundle_input import missing_modules
from medskills.segmentation.brain_preprocess.card import write_preprocess_card
from medskills.segmentation.brain_preprocess.mask import ADULT_BRAIN_MASK_RANGE_ML
from medskills.segmentation.brain_preprocess.models import (
    BrainPreprocessOutput,
    BrainPreprocessRecord,
    BrainPreprocessRequest,
)
from medskills.segmentation.brain_preprocess.pipeline import run_brain_preprocessing
from medskills.segmentation.brain_preprocess.template import LoadedTemplate, load_template

__all__ = ["MAIN_COMPONENT_MIN_FRACTION", "evaluate_gates", "preprocess_brain"]

logger = logging.getLogger(__name__)

MAIN_COMPONENT_MIN_FRACTION = 0.99
_TRACKED = ("deepbrain", "nilearn", "SimpleITK", "statsmodels", "protobuf", "torch", "numpy", "scipy", "nibabel")
T = TypeVar("T")


def _attempt(collector: PreflightCollector, code: str, field: str, action: Callable[[], T]) -> T | None:
    try:
        return action()
    except MedskillsError as err:
        collector.error(code, str(err), field=field, blocks_request=err.exit_code == ExitCode.USAGE)
        return None


def _check_output_dir(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        prepare_output_dir(path)  # raises the shared "not empty / not a directory" UsageError


def _check_libraries() -> None:
    from medskills.core.errors import EnvironmentProblem

    missing = missing_modules()
    if missing:
        raise EnvironmentProblem(f"brain preprocessing needs {', '.join(missing)}: pip install 'medskills[brain]'")


def _preflight(request: BrainPreprocessRequest) -> tuple[LoadedVolume, DeepbrainModel, LoadedTemplate, PreflightCollector]:
    """Check input, output folder, libraries, weights and template; report every problem at once."""
    collector = PreflightCollector()
    loaded = _attempt(collector, "input_unreadable", "IMAGE", lambda: read_volume(request.image_path))
    _attempt(collector, "output_dir_not_empty", "--output-dir", lambda: _check_output_dir(request.output_dir))
    _attempt(collector, "libraries_missing", "medskills[brain]", _check_libraries)
    model = _attempt(collector, "deepbrain_weights", "deepbrain", load_deepbrain)
    template = _attempt(collector, "template_missing", "nilearn", load_template)
    errors = collector.report().errors
    if errors or loaded is None or model is None or template is None:
        problems = [f"{check.code}: {check.message}" for check in errors]
        raise PreflightError(f"preflight found {len(problems)} problem(s):\n- " + "\n- ".join(problems), problems)
    return loaded, model, template, collector


def evaluate_gates(output: BrainPreprocessOutput) -> list[GateResult]:
    """Brain-mask volume in the adult range, and the thresholded mask essentially one component."""
    low, high = ADULT_BRAIN_MASK_RANGE_ML
    volume = output.mask.volume_ml
    fraction = output.mask.main_component_fraction
    return [
        GateResult(gate="brain_mask_volume_adult_range", status=Status.PASSED if low <= volume <= high else Status.FAILED,
                   message=f"brain mask {volume:.0f} mL; adult intracranial range {low:.0f}-{high:.0f} mL "
                   "(Matsumae et al. 1996, mean +/- 4 SD)", observed=volume, threshold=f"{low:.0f}-{high:.0f}"),
        GateResult(gate="brain_mask_one_component",
                   status=Status.PASSED if fraction >= MAIN_COMPONENT_MIN_FRACTION else Status.FAILED,
                   message=f"{fraction:.4f} of the thresholded mask is in its largest component "
                   f"({output.mask.raw_component_count} components before cleanup)",
                   observed=fraction, threshold=MAIN_COMPONENT_MIN_FRACTION),
    ]


def _provenance(model: DeepbrainModel) -> Provenance:
    from medskills.core.provenance import package_versions

    weights = WeightFile(path=model.weights_path, is_present=True, bytes=model.weights_path.stat().st_size,
                         sha256=model.weights_sha256, expected_sha256=DEEPBRAIN_WEIGHTS.sha256,
                         is_hash_match=model.weights_sha256 == DEEPBRAIN_WEIGHTS.sha256)
    import platform

    return Provenance(weights=[weights], python_version=platform.python_version(),
                      package_versions=package_versions(_TRACKED), device="cpu")


def _artifacts(output: BrainPreprocessOutput) -> list[Artifact]:
    roles = {"preprocessed": output.preprocessed_path, "brain_mask": output.brain_mask_path,
             "brain_mask_native": output.brain_mask_native_path, "revert_metadata": output.revert_metadata_path}
    if output.transform.transform_file is not None:
        roles["transform"] = output.transform.transform_file
    return [Artifact(role=role, path=path, bytes=path.stat().st_size, sha256=sha256_file(path))
            for role, path in roles.items()]


def preprocess_brain(request: BrainPreprocessRequest) -> BrainPreprocessRecord:
    """Run the recipe on ``request.image_path`` and write every output and the record to the output folder.

    Raises:
        PreflightError: any input, output-folder, library, weight or template problem (nothing written).
    """
    started = utc_now()
    loaded, model, template, collector = _preflight(request)
    output_dir = prepare_output_dir(request.output_dir)
    record = BrainPreprocessRecord(status=Status.FAILED, exit_code=int(ExitCode.FAILED), started_at=started,
                                   finished_at=started, output_dir=output_dir, preflight=collector.report(),
                                   request=request, provenance=_provenance(model))
    try:
        result = run_brain_preprocessing(loaded, output_dir, model=model, template=template,
                                         parameters=request.parameters)
    except MedskillsError as err:
        return finish_run(record.with_updates(exit_code=int(err.exit_code), failure_reasons=[str(err)],
                                              finished_at=utc_now()), output_dir)
    gates = evaluate_gates(result.output)
    failed = [gate.message for gate in gates if gate.status == Status.FAILED]
    card_path, card_error = write_preprocess_card(output_dir / "card.html", result, status="failed" if failed else "passed")
    return finish_run(record.with_updates(
        status=Status.FAILED if failed else Status.PASSED, exit_code=int(ExitCode.FAILED if failed else ExitCode.OK),
        output=result.output, gates=gates, failure_reasons=failed, artifacts=_artifacts(result.output),
        card_path=card_path, card_error=card_error, finished_at=utc_now()), output_dir)

