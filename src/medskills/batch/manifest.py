"""Read a batch manifest (YAML or JSONL), check it as a whole, and expand sweeps into jobs.

Every problem is collected with the job and the manifest line it belongs to before anything runs,
so a user fixes a malformed manifest in one edit, not one error at a time.
"""

from __future__ import annotations

import glob as globbing
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medskills.batch.commands import RUN_COMMANDS, OutputStyle, RunCommand, find_run_command
from medskills.core.errors import PreflightError

__all__ = [
    "BatchManifestError",
    "JobSpec",
    "ManifestProblem",
    "PlannedJob",
    "SweepGlob",
    "plan_manifest",
]

JOB_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_PLACEHOLDER = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")
_RESERVED_FLAGS = ("--output-dir", "-o", "--json", "--preflight-only")
_IMAGE_SUFFIXES = (".nii.gz", ".nii", ".json", ".zip", ".dcm")

Scalar = str | int | float | bool


@dataclass(frozen=True)
class ManifestProblem:
    """One thing wrong with the manifest, where it is, and what to do."""

    job: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "manifest"
        return f"{where}, job {self.job!r}: {self.message}"


class BatchManifestError(PreflightError):
    """The manifest cannot run; ``problems`` lists each one by job and line."""

    def __init__(self, manifest: Path, problems: list[ManifestProblem]) -> None:
        lines = [str(problem) for problem in problems]
        super().__init__(f"{manifest}: {len(lines)} problem(s) in the batch manifest; nothing ran:\n  "
                         + "\n  ".join(lines), lines)
        self.manifest_problems = list(problems)


class SweepGlob(BaseModel):
    """Sweep over the files a glob pattern matches (relative to the manifest's folder)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    glob: str = Field(min_length=1)


class JobSpec(BaseModel):
    """One manifest entry: a run command's words and arguments, without the output folder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=JOB_NAME_PATTERN)
    command: list[str] = Field(min_length=1)
    argv: list[str] = Field(default_factory=list)
    sweep: dict[str, list[Scalar] | SweepGlob] = Field(default_factory=dict)
    verify: bool = False

    @field_validator("argv", mode="before")
    @classmethod
    def _scalars_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_as_text(item) if isinstance(item, (int, float, bool)) else item for item in value]
        return value


@dataclass(frozen=True)
class PlannedJob:
    """A job after sweep expansion: what runs, where its outputs go, and where it was written."""

    name: str
    command: RunCommand
    argv: tuple[str, ...]
    line: int | None
    verify: bool
    source: str

    @property
    def wants_gpu(self) -> bool:
        """True when the command needs a GPU and the job did not ask for ``--device cpu``."""
        return self.command.needs_gpu and _option_value(self.argv, "--device") != "cpu"

    def arguments(self, output_dir: Path) -> list[str]:
        """The job's arguments with the batch-assigned output location (without the command's words)."""
        if self.command.output_style is OutputStyle.OUTPUT_DIR:
            return [*self.argv, "--output-dir", str(output_dir)]
        return [*self.argv, "--json", str(output_dir / "result.json")]

    def command_line(self, output_dir: Path) -> list[str]:
        """The command's own words and arguments, with the batch-assigned output location."""
        return [*self.command.words, *self.arguments(output_dir)]


def plan_manifest(path: Path, *, check_arguments: Callable[[PlannedJob], str | None] | None = None) -> list[PlannedJob]:
    """Read a YAML or JSONL manifest, check every job, and expand sweeps into the jobs to run.

    Job names must come out unique, since each is a folder. ``check_arguments`` parses a job's
    arguments with the real command's parser (the CLI supplies it) and returns a message when they
    are wrong.

    Raises:
        BatchManifestError: with every problem found, by job and manifest line (1-based).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BatchManifestError(path, [ManifestProblem("-", None, f"cannot read the manifest: {err}")]) from err
    entries = _jsonl_entries(path, text) if path.suffix.lower() in (".jsonl", ".ndjson") else _yaml_entries(path, text)
    problems: list[ManifestProblem] = []
    planned: list[PlannedJob] = []
    for index, (entry, line) in enumerate(entries):
        try:
            spec = JobSpec.model_validate(entry)
        except ValidationError as err:
            label = str(entry.get("name", f"#{index + 1}")) if isinstance(entry, dict) else f"#{index + 1}"
            problems.extend(ManifestProblem(label, line, _validation_message(error)) for error in err.errors())
            continue
        jobs, spec_problems = _plan_spec(spec, line, path.parent)
        planned.extend(jobs)
        problems.extend(spec_problems)
    problems.extend(_duplicate_names(planned))
    if check_arguments is not None:
        problems.extend(ManifestProblem(job.name, job.line, message) for job in planned
                        if (message := check_arguments(job)))
    if problems:
        raise BatchManifestError(path, sorted(problems, key=lambda problem: problem.line or 0))
    return planned


def _plan_spec(spec: JobSpec, line: int | None, base: Path) -> tuple[list[PlannedJob], list[ManifestProblem]]:
    command = find_run_command(spec.command)
    if command is None:
        known = ", ".join(f"[{', '.join(c.words)}]" for c in RUN_COMMANDS)
        message = f"command {spec.command} is not a run command; use one of {known}"
        return [], [ManifestProblem(spec.name, line, message)]
    problems = [ManifestProblem(spec.name, line, f"{flag} is assigned by the batch; remove it from argv")
                for flag in _RESERVED_FLAGS if flag in spec.argv]
    if spec.verify and command.verifier is None:
        problems.append(ManifestProblem(spec.name, line, f"verify: true, but {command.label} has no verifier"))
    expanded, sweep_problems = _expand(spec, base)
    problems.extend(ManifestProblem(spec.name, line, message) for message in sweep_problems)
    return [PlannedJob(name, command, argv, line, spec.verify, spec.name) for name, argv in expanded], problems


def _expand(spec: JobSpec, base: Path) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    if not spec.sweep:
        return [(spec.name, tuple(spec.argv))], []
    problems: list[str] = []
    axes: list[list[str]] = []
    for key, values in spec.sweep.items():
        if not key.startswith("-") and not _PLACEHOLDER.match(key):
            problems.append(f"sweep key {key!r} is neither an option (--flag) nor a placeholder ({{name}})")
        if _PLACEHOLDER.match(key) and key not in spec.argv:
            problems.append(f"sweep placeholder {key} does not appear in argv")
        texts = _sweep_values(values, base)
        if not texts:
            matched = f"glob {values.glob!r} matches no file under {base}" if isinstance(values, SweepGlob) else ""
            problems.append(f"sweep {key}: {matched or 'no values'}")
        axes.append(texts)
    if problems:
        return [], problems
    keys = list(spec.sweep)
    labels = [_value_labels(values) for values in axes]
    jobs = []
    for combination in itertools.product(*(range(len(values)) for values in axes)):
        argv = list(spec.argv)
        for key, axis, index in zip(keys, axes, combination, strict=True):
            argv = _substitute(argv, key, axis[index])
        suffix = "-".join(axis_labels[index] for axis_labels, index in zip(labels, combination, strict=True))
        jobs.append((f"{spec.name}-{suffix}", tuple(argv)))
    return jobs, []


def _value_labels(values: list[str]) -> list[str]:
    """Short folder-safe labels for one sweep axis; files that share a name are told apart by their folder."""
    labels = [_name_part(value) for value in values]
    if len(set(labels)) < len(labels):
        labels = [_name_part(f"{Path(value).parent.name}-{Path(value).name}") if "/" in value else label
                  for value, label in zip(values, labels, strict=True)]
    return labels


def _sweep_values(values: list[Scalar] | SweepGlob, base: Path) -> list[str]:
    if isinstance(values, SweepGlob):
        pattern = values.glob if Path(values.glob).is_absolute() else str(base / values.glob)
        return [str(Path(match).relative_to(base)) if not Path(values.glob).is_absolute() else match
                for match in sorted(globbing.glob(pattern))]
    return [_as_text(value) for value in values]


def _substitute(argv: list[str], key: str, value: str) -> list[str]:
    if _PLACEHOLDER.match(key):
        return [value if item == key else item for item in argv]
    if key in argv:
        position = argv.index(key)
        return [*argv[: position + 1], value, *argv[position + 2:]]
    return [*argv, key, value]


def _duplicate_names(planned: list[PlannedJob]) -> list[ManifestProblem]:
    seen: dict[str, PlannedJob] = {}
    problems = []
    for job in planned:
        folder = job.name.lower()  # one folder on case-insensitive file systems too
        if folder in seen:
            first = seen[folder]
            problems.append(ManifestProblem(job.source, job.line, f"job {job.name!r} would write the same folder "
                                            f"jobs/{job.name} as job {first.name!r} (line {first.line}); rename one"))
        else:
            seen[folder] = job
    return problems


def _name_part(value: str) -> str:
    name = Path(value).name if ("/" in value or any(value.endswith(s) for s in _IMAGE_SUFFIXES)) else value
    for suffix in _IMAGE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return _UNSAFE_NAME_CHARACTERS.sub("-", name).strip("-.") or "value"


def _option_value(argv: tuple[str, ...], flag: str) -> str | None:
    for position, item in enumerate(argv):
        if item == flag and position + 1 < len(argv):
            return argv[position + 1].lower()
        if item.startswith(flag + "="):
            return item.split("=", 1)[1].lower()
    return None


def _as_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _validation_message(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {error['msg']}" if location else str(error["msg"])


def _yaml_entries(path: Path, text: str) -> list[tuple[Any, int | None]]:
    try:
        document = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise BatchManifestError(path, [ManifestProblem("-", line, f"not valid YAML: {err}")]) from err
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list) or not document["jobs"]:
        raise BatchManifestError(path, [ManifestProblem("-", 1, "expected a mapping with a non-empty 'jobs' list")])
    unknown = sorted(set(document) - {"jobs"})
    if unknown:
        raise BatchManifestError(path, [ManifestProblem("-", 1, f"unknown top-level keys {unknown}; only 'jobs'")])
    jobs_nodes = [(key, value) for key, value in root.value if key.value == "jobs"]
    if len(jobs_nodes) > 1:
        given_at = ", ".join(str(key.start_mark.line + 1) for key, _ in jobs_nodes)
        raise BatchManifestError(path, [ManifestProblem("-", jobs_nodes[1][0].start_mark.line + 1,
                                                        f"'jobs' is given {len(jobs_nodes)} times (lines {given_at}); "
                                                        "YAML keeps only the last: merge them into one list")])
    jobs_node = jobs_nodes[0][1]
    lines = [item.start_mark.line + 1 for item in jobs_node.value]
    return list(zip(document["jobs"], lines, strict=True))


def _jsonl_entries(path: Path, text: str) -> list[tuple[Any, int | None]]:
    entries: list[tuple[Any, int | None]] = []
    problems: list[ManifestProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            entries.append((json.loads(raw), number))
        except json.JSONDecodeError as err:
            problems.append(ManifestProblem(f"#{len(entries) + len(problems) + 1}", number, f"not valid JSON: {err}"))
    if problems:
        raise BatchManifestError(path, problems)
    if not entries:
        raise BatchManifestError(path, [ManifestProblem("-", None, "the manifest holds no job")])
    return entries
