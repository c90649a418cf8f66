"""Batches of run commands from one manifest, on this machine or on a Ray cluster, resumable.

``run_batch`` is the one entry point; ``medskills batch`` is its command line.
"""

from medskills.batch.commands import RUN_COMMANDS, OutputStyle, RunCommand, find_run_command
from medskills.batch.ledger import BatchLocked, JobEntry, JobState
from medskills.batch.manifest import BatchManifestError, JobSpec, ManifestProblem, PlannedJob, plan_manifest
from medskills.batch.report import BatchReport, JobReport
from medskills.batch.runner import EXIT_INTERRUPTED, BatchControl, BatchCounts, BatchRequest, run_batch

__all__ = [
    "EXIT_INTERRUPTED",
    "RUN_COMMANDS",
    "BatchControl",
    "BatchCounts",
    "BatchLocked",
    "BatchManifestError",
    "BatchReport",
    "BatchRequest",
    "JobEntry",
    "JobReport",
    "JobSpec",
    "JobState",
    "ManifestProblem",
    "OutputStyle",
    "PlannedJob",
    "RunCommand",
    "find_run_command",
    "plan_manifest",
    "run_batch",
]
