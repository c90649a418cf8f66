"""The only shared layer: records, errors, preflight, upstream runner, provenance, volumes, cards."""

from medskills.core.errors import (
    EnvironmentProblem,
    ExitCode,
    GateFailure,
    InputError,
    MedskillsError,
    ModelPackError,
    PreflightError,
    StudyError,
    UpstreamFailure,
    UpstreamTimeout,
    UsageError,
    study_error,
)
from medskills.core.io import prepare_output_dir, sha256_file, write_json_atomic, write_text_atomic
from medskills.core.models import (
    DISCLAIMER,
    Artifact,
    Check,
    CostEstimate,
    GateResult,
    Invocation,
    PreflightReport,
    Provenance,
    RunRecord,
    Severity,
    Status,
)
from medskills.core.settings import Settings, load_settings

# Submodules with heavier or more specific APIs are imported by path:
# medskills.core.preflight, .upstream, .provenance, .volumes, .card, .gates, .records, .label_spaces

__all__ = [
    "DISCLAIMER",
    "Artifact",
    "Check",
    "CostEstimate",
    "EnvironmentProblem",
    "ExitCode",
    "GateFailure",
    "GateResult",
    "InputError",
    "Invocation",
    "MedskillsError",
    "ModelPackError",
    "PreflightError",
    "PreflightReport",
    "Provenance",
    "RunRecord",
    "Settings",
    "Severity",
    "Status",
    "StudyError",
    "UpstreamFailure",
    "UpstreamTimeout",
    "UsageError",
    "load_settings",
    "prepare_output_dir",
    "sha256_file",
    "study_error",
    "write_json_atomic",
    "write_text_atomic",
]
