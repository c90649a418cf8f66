"""The ensemble predictor: every member loaded once, features assembled, stackers and decision applied."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from medskills.core.errors import ModelPackError
from medskills.core.progress import OnProgress, report_progress
from medskills.dicom.volume import HUVolume
from medskills.triage.measurements import Measurement, QCTReport
from medskills.triage.models import EnsembleMember, UnavailableMember, load_member
from medskills.triage.pack import LoadedPack, load_pack
from medskills.triage.pack_manifest import FindingSpec, WeightRef
from medskills.triage.pathologies import group_of, rank_findings
from medskills.triage.prediction import FindingScore, MemberUnavailable, NoModelsAvailable, TriagePrediction
from medskills.triage.preprocessing import StudyInputs
from medskills.triage.stacker import Stacker, load_stacker

__all__ = [
    "EnsemblePredictor",
    "FeatureRow",
    "MeasuringMember",
    "build_predictor",
    "compute_feature_row",
    "default_vocabulary",
    "load_members",
    "load_predictor",
    "refuse_without_available_members",
]

logger = logging.getLogger(__name__)


@runtime_checkable
class MeasuringMember(Protocol):
    """A member that also reports typed measurements (the ``qct`` member); memoised per study in ``inputs``."""

    def measure(self, inputs: StudyInputs) -> QCTReport: ...


@dataclass(frozen=True)
class FeatureRow:
    """All member features of one study (NaN for members that did not run), who ran, and what was measured."""

    values: dict[str, float]
    members_available: list[str]
    member_unavailable_reasons: dict[str, str] = field(default_factory=dict)
    measurements: tuple[Measurement, ...] = ()
    measurement_notes: tuple[str, ...] = ()

    def ordered(self, names: Sequence[str]) -> np.ndarray:
        """Values in ``names`` order as a float64 vector."""
        return np.asarray([self.values[name] for name in names], dtype=np.float64)


def compute_feature_row(members: Sequence[EnsembleMember], volume: HUVolume, *,
                        inputs: StudyInputs | None = None, on_progress: OnProgress | None = None) -> FeatureRow:
    """Run every member once on ``volume``; a failing member gives NaN and a recorded reason.

    ``inputs`` are the study's already derived inputs (e.g. the chest check's lungs), reused.
    ``on_progress`` hears of each member done (run, failed or unavailable), out of all of them.
    """
    inputs = StudyInputs(volume) if inputs is None else inputs
    values: dict[str, float] = {}
    available: list[str] = []
    reasons: dict[str, str] = {}
    reports: list[QCTReport] = []
    for done, member in enumerate(members, start=1):
        if isinstance(member, UnavailableMember):
            reasons[member.name] = member.reason
            row = member.compute(inputs)
        else:
            try:
                row = member.compute(inputs)
                if isinstance(member, MeasuringMember):
                    reports.append(member.measure(inputs))  # memoised: computed once, by compute
                available.append(member.name)
            except (RuntimeError, ValueError, MemoryError) as err:
                logger.exception("member %s failed on %s", member.name, volume.series_uid)
                reasons[member.name] = f"failed: {type(err).__name__}: {err}"
                row = np.full(len(member.feature_names), np.nan)
        values.update(zip(member.feature_names, (float(v) for v in row), strict=True))
        report_progress(on_progress, done, len(members))
    measurements = tuple(m for report in reports for m in report.measurements)
    notes = tuple(note for report in reports for note in report.notes)
    return FeatureRow(values, available, reasons, measurements, notes)


def default_vocabulary(members: Sequence[EnsembleMember]) -> tuple[FindingSpec, ...]:
    """One finding per distinct class/prompt display name over all members, threshold 0.5.

    Names are matched case-insensitively; sources are every member feature scoring that name.
    """
    by_key: dict[str, tuple[str, list[str]]] = {}
    for member in members:
        for feature, display in member.finding_sources.items():
            key = display.strip().lower()
            by_key.setdefault(key, (display, []))[1].append(feature)
    return tuple(
        FindingSpec(name=display, group=group_of(display), threshold=0.5, sources=tuple(sources))
        for display, sources in by_key.values()
    )


class EnsemblePredictor:
    """Implements :class:`medskills.triage.Predictor` for a loaded model pack.

    ``main`` is None for a pack without a stacker: then there is no probability, only the members'
    own outputs and the findings whose scores pass their thresholds.
    """

    def __init__(
        self, *, pack: LoadedPack, members: Sequence[EnsembleMember], main: Stacker | None, thoracic: Stacker | None
    ) -> None:
        self.pack = pack
        self.members = tuple(members)
        self.main = main
        self.thoracic = thoracic
        manifest = pack.manifest
        self.vocabulary = manifest.vocabulary or default_vocabulary(self.members)
        self._rules = [(f.name, f.group, f.threshold, f.sources) for f in self.vocabulary]

    @property
    def model_version(self) -> str:
        """The pack's ``model_version``."""
        return self.pack.manifest.model_version

    @property
    def members_available(self) -> list[str]:
        """Members that loaded (they may still fail on a given study)."""
        return [m.name for m in self.members if not isinstance(m, UnavailableMember)]

    @property
    def members_unavailable(self) -> list[MemberUnavailable]:
        """Members that could not load here, each with its reason."""
        return [MemberUnavailable(name=m.name, reason=m.reason)
                for m in self.members if isinstance(m, UnavailableMember)]

    def features(self, volume: HUVolume, *, inputs: StudyInputs | None = None,
                 on_progress: OnProgress | None = None) -> FeatureRow:
        """Every member's features for ``volume`` (see :func:`compute_feature_row`)."""
        return compute_feature_row(self.members, volume, inputs=inputs, on_progress=on_progress)

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None,
                on_progress: OnProgress | None = None) -> TriagePrediction:
        """Features -> main (and thoracic) stacker -> decision -> ranked findings.

        ``on_progress`` hears of each member done (:func:`compute_feature_row`).

        Raises:
            NoModelsAvailable: no member gave features for this study.
        """
        manifest = self.pack.manifest
        row = self.features(volume, inputs=inputs, on_progress=on_progress)
        if not row.members_available:
            reasons = "; ".join(f"{name}: {reason}" for name, reason in row.member_unavailable_reasons.items())
            raise NoModelsAvailable(
                f"no model could analyse this study, so there is no answer ({reasons}). Check the server log, "
                "or configure a pack whose members run on this machine.",
                study_uid=volume.study_uid, series_uid=volume.series_uid,
            )
        main = thoracic = _Decision()
        if self.main is not None:
            main = _decide(self.main, row, manifest.thresholds.main)
        if self.thoracic is not None:
            thoracic = _decide(self.thoracic, row, manifest.thresholds.thoracic)
        is_pathology = main.pathology == 1 if self.main is not None else True
        ranked = rank_findings(row.values, self._rules, is_pathology=is_pathology, top_k=manifest.top_k)
        return TriagePrediction(
            probability_of_pathology=main.probability,
            pathology=main.pathology,
            threshold=main.threshold,
            top_pathologies=[finding.name for finding in ranked],
            probability_of_pathology_thoracic=thoracic.probability,
            pathology_thoracic=thoracic.pathology,
            threshold_thoracic=thoracic.threshold,
            model_version=manifest.model_version,
            stacker_provenance=manifest.stacker_provenance,
            fitted_on=manifest.stacker.fitted_on if manifest.stacker else None,
            members_available=row.members_available,
            members_unavailable=[
                MemberUnavailable(name=name, reason=reason) for name, reason in row.member_unavailable_reasons.items()
            ],
            feature_list_sha256=manifest.features.sha256 if manifest.features else None,
            measurements=list(row.measurements),
            measurement_notes=list(row.measurement_notes),
            top_pathology_scores=[
                FindingScore(name=f.name, group=f.group, score=f.score, threshold=f.threshold) for f in ranked
            ],
        )


@dataclass(frozen=True)
class _Decision:
    probability: float | None = None
    pathology: int | None = None
    threshold: float | None = None


def _decide(stacker: Stacker, row: FeatureRow, threshold: float) -> _Decision:
    matrix = row.ordered(stacker.feature_names)[None, :]
    probability = float(np.clip(stacker.predict_probability(matrix)[0], 0.0, 1.0))
    return _Decision(probability, int(probability >= threshold), threshold)


def _check_feature_coverage(pack: LoadedPack, members: Sequence[EnsembleMember]) -> None:
    produced = {name for member in members for name in member.feature_names}
    listed = pack.manifest.features.names if pack.manifest.features is not None else ()
    orphans = [name for name in listed if name not in produced]
    if orphans:
        raise ModelPackError(
            f"model pack {pack.root}: {len(orphans)} stacker features are produced by no configured member "
            f"(e.g. {orphans[:5]}). Add the member that produces them to pack.yaml, or retrain the stacker."
        )
    unknown = [s for f in pack.manifest.vocabulary for s in f.sources if s not in produced]
    if unknown:
        raise ModelPackError(f"model pack {pack.root}: vocabulary sources {unknown[:5]} are produced by no member.")


def load_members(pack: LoadedPack) -> list[EnsembleMember]:
    """Load every member of ``pack`` once, in manifest order."""
    return [load_member(pack, spec) for spec in pack.manifest.members]


def _stacker_path(pack: LoadedPack, ref: WeightRef) -> Path:
    path = pack.weight(ref).path
    if path is None:  # load_pack already refuses this; kept for a precise message
        raise ModelPackError(f"stacker model {ref.path} is missing from {pack.root}")
    return path


def load_predictor(pack_dir: Path) -> EnsemblePredictor:
    """Verify the pack, load every member and the stackers (if any) once, and return the predictor.

    Raises:
        ModelPackError: hash mismatch, pickle, feature-order mismatch, features no member produces,
            or no member that can run on this machine.
    """
    pack = load_pack(pack_dir, require_stacker=False)
    return build_predictor(pack)


def build_predictor(pack: LoadedPack) -> EnsemblePredictor:
    """Load the members and stackers of an already verified pack (see :func:`load_predictor`)."""
    manifest = pack.manifest
    members = load_members(pack)
    refuse_without_available_members(pack, members)
    _check_feature_coverage(pack, members)
    main = thoracic = None
    if manifest.stacker is not None and manifest.features is not None:  # the manifest requires both or neither
        names = manifest.features.names
        main = load_stacker(_stacker_path(pack, manifest.stacker.main), expected_features=names)
        if manifest.stacker.thoracic is not None:
            thoracic = load_stacker(_stacker_path(pack, manifest.stacker.thoracic), expected_features=names)
    for member in members:
        if isinstance(member, UnavailableMember):
            logger.warning("member %s unavailable: %s", member.name, member.reason)
    return EnsemblePredictor(pack=pack, members=members, main=main, thoracic=thoracic)


def refuse_without_available_members(pack: LoadedPack, members: Sequence[EnsembleMember]) -> None:
    """Refuse a pack none of whose members can run here, naming each member and why.

    Raises:
        ModelPackError: no member loaded.
    """
    if any(not isinstance(member, UnavailableMember) for member in members):
        return
    lines = [f"- {m.name}: {m.reason}" for m in members if isinstance(m, UnavailableMember)]
    raise ModelPackError(
        f"model pack {pack.root} ({pack.manifest.model_version}) has no member that can run on this machine, "
        "so it could only answer without a model:\n" + ("\n".join(lines) or "- the pack lists no members")
        + "\nInstall the missing weights or extras named above, or use a pack whose members are available."
    )
