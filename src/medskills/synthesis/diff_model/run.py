"""One ``scripts.diff_model_infer`` run: stage, invoke in the upstream root, read the image back, grade it.

Shared by MR-brain and CT image-only synthesis; the callers own preflight and their records.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from medskills.core.errors import ExitCode
from medskills.core.models import Artifact, GateResult, Invocation, Status, utc_now
from medskills.core.records import file_artifact
from medskills.core.run import run_outcome
from medskills.core.settings import Settings
from medskills.core.upstream import Runner, UpstreamCommand
from medskills.synthesis.diff_model.staging import (
    DiffModelFacts, DiffModelInference, StagedDiffModel, diff_model_argv, scan_diff_model_outputs, stage_diff_model,
)
from medskills.synthesis.nv_generate.image_evidence import ImageKind, ImageOutputSummary, image_artifacts, inspect_image, summarize_images
from medskills.synthesis.nv_generate.image_gates import evaluate_image_gates
from medskills.synthesis.nv_generate.checks import run_environment
from medskills.synthesis.nv_generate.staging import LOG_DIR_NAME, STAGED_DIR_NAME

__all__ = ["DiffModelRun", "run_diff_model"]


@dataclass(frozen=True)
class DiffModelRun:
    """Everything a finished run produced, ready to go into a record."""

    staged: StagedDiffModel
    invocation: Invocation
    output: ImageOutputSummary
    gates: list[GateResult]
    status: Status
    exit_code: ExitCode
    failure_reasons: list[str]
    artifacts: list[Artifact]

    def record_updates(self, output_dir: Path) -> dict[str, object]:
        """The record fields this run fills in (status, exit code, invocation, gates, output, artifacts)."""
        return {"status": self.status, "exit_code": self.exit_code, "invocation": self.invocation,
                "gates": self.gates, "output": self.output, "staging": self.staged,
                "failure_reasons": self.failure_reasons, "artifacts": self.artifacts, "finished_at": utc_now(),
                "output_dir": output_dir}


def run_diff_model(
    facts: DiffModelFacts, *, upstream_root: Path, output_dir: Path, output_prefix: str, inference: DiffModelInference,
    kind: ImageKind, settings: Settings, runner: Runner, timeout_seconds: float,
) -> DiffModelRun:
    """Stage into ``output_dir/_staged_configs``, run upstream (cwd = upstream root), grade the image(s)."""
    staged = stage_diff_model(facts, upstream_root=upstream_root, staged_dir=output_dir / STAGED_DIR_NAME,
                              output_dir=output_dir, output_prefix=output_prefix, inference=inference)
    command = UpstreamCommand(
        argv=diff_model_argv(sys.executable, staged), cwd=upstream_root,
        env=run_environment(upstream_root, data_root=settings.monai_data_directory),
        timeout_seconds=timeout_seconds, log_dir=output_dir / LOG_DIR_NAME, log_name="diff_model_infer",
    )
    invocation = runner(command)
    images = [inspect_image(path, kind=kind, requested_shape=inference.dim, requested_spacing_mm=inference.spacing)
              for path in scan_diff_model_outputs(staged, started_at=invocation.started_at)]
    output = summarize_images(output_dir, images, kind=kind)
    gates = evaluate_image_gates(invocation, output)
    status, exit_code, reasons = run_outcome(invocation, gates)
    staged_files = (staged.environment_path, staged.model_config_path)
    artifacts = [*image_artifacts(images), *(file_artifact("staged_config", path) for path in staged_files)]
    return DiffModelRun(staged=staged, invocation=invocation, output=output, gates=gates, status=status,
                        exit_code=exit_code, failure_reasons=reasons, artifacts=artifacts)
