"""The run commands a batch job may name, and how the batch drives each of them.

One table, so the manifest check, the resource requests and the verifier chaining read the same
facts. ``tests/unit/batch/test_commands.py`` walks the real typer app to prove every entry exists
and accepts the options written here, so the table cannot drift from the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["OutputStyle", "RUN_COMMANDS", "RunCommand", "find_run_command"]


class OutputStyle(StrEnum):
    """How a command is told where its outputs go."""

    OUTPUT_DIR = "output_dir"   # ``--output-dir DIR``; the command writes DIR/result.json itself
    JSON_FILE = "json_file"     # ``--json DIR/result.json`` (the verifiers)


@dataclass(frozen=True)
class RunCommand:
    """One ``medskills`` run command as the batch sees it.

    ``skill`` is the doctor/setup skill whose readiness every node must show before the batch
    starts (None: nothing beyond the package itself). ``needs_gpu`` asks the scheduler for one GPU.
    ``verifier`` is the command run on the job's folder when the manifest asks ``verify: true``.
    """

    words: tuple[str, ...]
    output_style: OutputStyle
    skill: str | None = None
    needs_gpu: bool = False
    has_preflight_only: bool = False
    has_yes_gate: bool = False
    verifier: tuple[str, ...] | None = None
    cpus: float = 1.0
    memory_gb: float = 4.0

    @property
    def label(self) -> str:
        """The command as a user types it, e.g. ``synth ct``."""
        return " ".join(self.words)


_CT_VERIFIER = ("verify", "ct-synthesis")

RUN_COMMANDS: tuple[RunCommand, ...] = (
    RunCommand(("synth", "ct"), OutputStyle.OUTPUT_DIR, skill="synth-ct", needs_gpu=True,
               has_preflight_only=True, has_yes_gate=True, verifier=_CT_VERIFIER, memory_gb=16.0),
    RunCommand(("synth", "ct-mask"), OutputStyle.OUTPUT_DIR, skill="synth-ct", needs_gpu=True,
               has_preflight_only=True, has_yes_gate=True, memory_gb=16.0),
    # No verifier grades ct-from-mask runs: `verify ct-synthesis` refuses their mode (the label is the user's).
    RunCommand(("synth", "ct-from-mask"), OutputStyle.OUTPUT_DIR, skill="synth-ct", needs_gpu=True,
               has_preflight_only=True, has_yes_gate=True, memory_gb=16.0),
    RunCommand(("synth", "ct-image"), OutputStyle.OUTPUT_DIR, skill="synth-ct", needs_gpu=True,
               has_preflight_only=True, has_yes_gate=True, memory_gb=16.0),
    RunCommand(("synth", "mr-brain"), OutputStyle.OUTPUT_DIR, skill="synth-mr-brain", needs_gpu=True,
               has_preflight_only=True, has_yes_gate=True, verifier=("verify", "mr-synthesis"), memory_gb=16.0),
    RunCommand(("segment", "ctmr"), OutputStyle.OUTPUT_DIR, skill="segment-ctmr", needs_gpu=True,
               has_preflight_only=True, has_yes_gate=True, verifier=("verify", "segmentation"), cpus=2.0,
               memory_gb=12.0),
    RunCommand(("verify", "ct-synthesis"), OutputStyle.JSON_FILE),
    RunCommand(("verify", "mr-synthesis"), OutputStyle.JSON_FILE),
    RunCommand(("verify", "segmentation"), OutputStyle.JSON_FILE),
)


def find_run_command(words: list[str] | tuple[str, ...]) -> RunCommand | None:
    """Return the run command named by ``words`` (case-sensitive, as typed), or None."""
    wanted = tuple(words)
    return next((command for command in RUN_COMMANDS if command.words == wanted), None)
