"""INPUT models that read another tool's ``OUT/result.json``: only the fields the verifiers use.

These models are not medskills records: they read files written by the synthesis and segmentation
skills (or by older wrappers), so they ignore unknown keys (``extra="ignore"``) instead of rejecting
them, and accept a few alternative spellings. Capabilities never import each other, so this module
is the one place that knows the field paths; :data:`FIELD_PATHS` lists them for the documentation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field, ValidationError

from medskills.core.errors import InputError
from medskills.core.skills import SkillId

__all__ = [
    "FIELD_PATHS",
    "CTSynthesisRun",
    "MRSynthesisRun",
    "SegmentationRun",
    "load_run",
    "resolve_artifact",
    "skill_of",
]

RunT = TypeVar("RunT", bound="_InputModel")


class _InputModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class RecordedArtifact(_InputModel):
    """``artifacts[]``: a file the run claims it wrote, with its sha256."""

    role: str
    path: Path
    sha256: str | None = None


class CTSample(_InputModel):
    image_path: Path = Field(validation_alias=AliasChoices("image_path", AliasPath("image", "path")))
    label_path: Path = Field(validation_alias=AliasChoices("label_path", AliasPath("label", "path")))


class LabelMappingItem(_InputModel):
    """``output.output_label_mapping[]``: which MAISI class each output id holds."""

    anatomy: object = None
    maisi_label_id: object = None
    output_label_id: object = None

    @property
    def output_id(self) -> int | None:
        """``output_label_id`` when it is an integer (a malformed item is graded, not rejected)."""
        return _integer(self.output_label_id)

    @property
    def maisi_id(self) -> int | None:
        return _integer(self.maisi_label_id)


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _claim(*names: str) -> bool | None:
    """An optional boolean claim that may be spelled several ways (``all_x`` or ``is_all_x``)."""
    return Field(default=None, validation_alias=AliasChoices(*names))


class CTSynthesisOutput(_InputModel):
    samples: list[CTSample] = Field(default_factory=list)
    output_label_mapping: list[LabelMappingItem] | None = None
    all_pairs_readable: bool | None = _claim("all_pairs_readable", "is_all_pairs_readable")
    all_geometry_consistent: bool | None = _claim("all_geometry_consistent", "is_all_geometry_consistent")
    any_foreground_present: bool | None = _claim("any_foreground_present", "has_any_foreground")
    all_images_nonconstant: bool | None = _claim("all_images_nonconstant", "is_all_images_nonconstant")
    all_images_hu_like: bool | None = _claim("all_images_hu_like", "is_all_images_hu_like")
    all_effective_anatomy_labels_present: bool | None = _claim(
        "all_effective_anatomy_labels_present", "is_all_expected_labels_present")


class CTSynthesisRun(_InputModel):
    skill: str
    status: str | None = None
    exit_code: int | None = None
    output: CTSynthesisOutput
    artifacts: list[RecordedArtifact] = Field(default_factory=list)


class MRSample(_InputModel):
    path: Path = Field(validation_alias=AliasChoices("path", "image_path"))
    requested_shape: tuple[int, int, int] | None = None
    requested_spacing_mm: tuple[float, float, float] | None = Field(
        default=None, validation_alias=AliasChoices("requested_spacing_mm", "requested_spacing"))


class MRSynthesisOutput(_InputModel):
    samples: list[MRSample] = Field(default_factory=list)
    all_images_readable: bool | None = None
    all_shapes_match_requested: bool | None = None
    all_spacing_match_requested: bool | None = None
    all_images_finite: bool | None = None
    all_images_nonconstant: bool | None = None
    all_images_nonnegative: bool | None = None


class MRRequest(_InputModel):
    modality: str | None = Field(default=None, validation_alias=AliasChoices("modality", "modality_name"))
    dim: tuple[int, int, int] | None = Field(default=None, validation_alias=AliasChoices("dim", "dim_requested"))
    spacing_mm: tuple[float, float, float] | None = Field(
        default=None,
        validation_alias=AliasChoices("spacing_mm", "spacing", "spacing_requested_mm", "spacing_requested"))


class MRSynthesisRun(_InputModel):
    skill: str
    status: str | None = None
    exit_code: int | None = None
    request: MRRequest = Field(default_factory=MRRequest, validation_alias=AliasChoices("request", "input"))
    output: MRSynthesisOutput
    artifacts: list[RecordedArtifact] = Field(default_factory=list)


class SegmentationRequest(_InputModel):
    image: Path | None = Field(default=None, validation_alias=AliasChoices("image", "image_path"))
    modality: str | None = None
    ground_truth: Path | None = Field(default=None, validation_alias=AliasChoices("ground_truth", "ground_truth_path"))
    label_prompts: list[int] | None = Field(
        default=None, validation_alias=AliasChoices("label_prompts", "label_prompts_requested"))


class SegmentationOutput(_InputModel):
    mask_path: Path | None = Field(default=None, validation_alias=AliasChoices("mask_path", "prediction_path", "path"))
    bundle_output_path: Path | None = None
    label_space: str = "vista3d"
    label_ids_present: list[int] | None = None


class SegmentationRun(_InputModel):
    skill: str
    status: str | None = None
    exit_code: int | None = None
    request: SegmentationRequest = Field(default_factory=SegmentationRequest,
                                         validation_alias=AliasChoices("request", "input"))
    requested_prompt_ids: list[int] | None = Field(
        default=None, validation_alias=AliasPath("plan", "prompts", "requested_ids"),
        description="Prompt ids before subclass expansion; empty in everything mode.")
    bundle_input_path: Path | None = Field(
        default=None, validation_alias=AliasPath("plan", "input", "bundle_input_path"),
        description="The NIfTI the bundle read: a DICOM series input's conversion, kept in the run folder.")
    output: SegmentationOutput
    artifacts: list[RecordedArtifact] = Field(default_factory=list)

    @property
    def label_prompts(self) -> list[int] | None:
        return self.requested_prompt_ids or self.request.label_prompts

    @property
    def mask_path(self) -> Path:
        if self.output.mask_path is None and self.status not in (None, "passed"):
            raise InputError(f"the run ended {self.status!r} (exit {self.exit_code}) without writing a label map: "
                             "there is nothing to grade. Its result.json and logs say why it failed.")
        path = self.output.mask_path or self.output.bundle_output_path
        if path is None:
            raise InputError("result.json has neither output.mask_path nor output.bundle_output_path; "
                             "the run wrote no label map to grade.")
        return path


FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "ct_synthesis_quality_v1": (
        "skill (synth-ct or a legacy name)", "mode (ct or absent: runs of another mode are refused)", "status",
        "exit_code", "artifacts[].role|path|sha256",
        "output.samples[].image_path (or .image.path)", "output.samples[].label_path (or .label.path)",
        "output.output_label_mapping[].anatomy|maisi_label_id|output_label_id "
        "(optional: without it labels are MAISI ids)",
        "output.is_all_pairs_readable|is_all_geometry_consistent|has_any_foreground|is_all_images_nonconstant|"
        "is_all_images_hu_like|is_all_expected_labels_present (claims, optional; all_* spellings also read)",
    ),
    "mr_synthesis_quality_v1": (
        "skill (synth-mr-brain or a legacy name)", "status", "exit_code", "artifacts[].role|path|sha256",
        "request.modality_name (or .modality)", "request.dim_requested (or .dim)",
        "request.spacing_requested_mm (or .spacing_mm, .spacing, input.spacing_requested)",
        "output.samples[].path (or .image_path), .requested_shape, .requested_spacing_mm (fallback for the request)",
        "output.all_images_readable|all_shapes_match_requested|all_spacing_match_requested|all_images_finite|"
        "all_images_nonconstant|all_images_nonnegative (claims, optional)",
    ),
    "ct_segmentation_quality_v1": (
        "skill (segment-ctmr or a legacy name)", "status", "exit_code", "artifacts[].role|path|sha256",
        "request.image_path (or .image)", "request.modality (CT_BODY|MRI_BODY|MRI_BRAIN)",
        "request.ground_truth_path (or .ground_truth)",
        "plan.prompts.requested_ids (or request.label_prompts; empty = everything mode)",
        "output.mask_path (or .prediction_path or .path; fallback output.bundle_output_path)",
        "output.label_space (default vista3d)",
        "output.label_ids_present (claim, optional)",
    ),
    "ct_pair_consistency_v1": (
        "skill (synth-ct or a legacy name)", "mode (ct or absent)", "status",
        "output.samples[].image_path (or .image.path)", "output.samples[].label_path (or .label.path)",
        "output.output_label_mapping[].maisi_label_id|output_label_id (optional: without it labels are MAISI ids)",
    ),
}


# Which verify command grades which kind of record, so a wrong pairing gets a pointer, not a parse error.
_VERIFY_COMMAND_BY_SKILL = {SkillId.SYNTH_CT: "ct-synthesis", SkillId.SYNTH_MR_BRAIN: "mr-synthesis",
                            SkillId.SEGMENT_CTMR: "segmentation"}
_VERDICT_NAMES = frozenset({"ct_synthesis_quality_v1", "mr_synthesis_quality_v1", "ct_segmentation_quality_v1",
                            "ct_pair_consistency_v1"})


def skill_of(name: str | None) -> SkillId | None:
    """The skill a record's ``skill`` names (canonical or legacy, ``medagent.`` prefix allowed); None if unknown."""
    if name is None:
        return None
    bare = name.removeprefix("medagent.")
    for spelling in (bare, bare.replace("-", "_")):  # nv-generate-ct-from-mask is nv_generate_ct_from_mask
        try:
            return SkillId(spelling)
        except ValueError:
            continue
    return None


def _kind_of(model: type[_InputModel]) -> tuple[str, str]:
    """The verify command for ``model`` and what it grades."""
    kinds: dict[type[_InputModel], tuple[str, str]] = {
        CTSynthesisRun: ("ct-synthesis", "paired CT image + label runs (`medskills synth ct`)"),
        MRSynthesisRun: ("mr-synthesis", "brain-MRI synthesis runs (`medskills synth mr-brain`)"),
        SegmentationRun: ("segmentation", "segmentation runs (`medskills segment ctmr`)"),
    }
    return kinds.get(model, ("?", "this kind of run"))


def _refuse_unrunnable(document: dict[str, object], record_path: Path, model: type[_InputModel],
                       command: str | None) -> None:
    """A record of a run that never ran (preflight-only, refused) or of another kind: a clear error, exit 2."""
    model_command, grades = _kind_of(model)
    command = command or model_command
    skill, mode = str(document.get("skill", "?")), document.get("mode")
    kind = f"{skill}{f' ({mode})' if mode else ''}"
    if "preflight" in document and document.get("invocation") is None and document.get("output") is None:
        raise InputError(
            f"{record_path} records a {kind} run that never started the upstream (status {document.get('status')!r}, "
            f"exit {document.get('exit_code')}; preflight-only, refused, or failed before running): there is nothing "
            "to grade. Run the skill without --preflight-only into a new folder, then verify that folder.")
    if skill in _VERDICT_NAMES:
        raise InputError(f"{record_path} is the record of the verifier {skill}, not of a run it grades. Pass the "
                         "--output-dir of the synthesis or segmentation run instead.")
    known = skill_of(skill)
    right = _VERIFY_COMMAND_BY_SKILL.get(known) if known is not None else None
    is_other_skill = right is not None and right != model_command
    is_other_mode = model_command == "ct-synthesis" and mode not in (None, "ct")
    if is_other_skill or is_other_mode:
        hint = f" Use `medskills verify {right}` for it." if is_other_skill else ""
        raise InputError(f"{record_path} is a {kind} run, but `medskills verify {command}` grades {grades}.{hint}")


def load_run(run_dir: Path, model: type[RunT], *, command: str | None = None) -> tuple[RunT, Path]:
    """Read ``run_dir/result.json`` into ``model``; returns the model and the file path. ``command`` is the
    verify command the messages name (default: the one that grades ``model``'s runs).

    Raises:
        InputError: the folder or record is missing, not JSON, records a run that never ran or a run of
            another kind, or lacks a field the verifier needs (exit 2).
    """
    record_path = Path(run_dir) / "result.json"
    if not Path(run_dir).is_dir():
        raise InputError(f"run directory {run_dir} does not exist. Pass the --output-dir of a finished run.")
    if not record_path.is_file():
        raise InputError(f"{record_path} is missing: {run_dir} is not a medskills run directory "
                         "(every run writes result.json, also on failure).")
    try:
        document = json.loads(record_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"{record_path} is not valid JSON ({err}). Re-run the skill to rewrite it.") from err
    if not isinstance(document, dict):
        raise InputError(f"{record_path} holds a JSON {type(document).__name__}, not a run record.")
    _refuse_unrunnable(document, record_path, model, command)
    try:
        return model.model_validate(document), record_path
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])} ({e['type'].replace('_', ' ')})"
                             for e in err.errors())
        raise InputError(f"{record_path} lacks fields `medskills verify {command or _kind_of(model)[0]}` reads: "
                         f"{problems}. "
                         "Is this the output folder of the right kind of run?") from err


def resolve_artifact(path: Path, run_dir: Path) -> Path:
    """Resolve a recorded path: absolute as is, else relative to the run directory, else to the CWD.

    Raises:
        InputError: the file is not found in any of those places.
    """
    candidates = [path] if path.is_absolute() else [Path(run_dir) / path, Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise InputError(f"artifact {path} recorded in {Path(run_dir) / 'result.json'} was not found (tried {tried}).")
