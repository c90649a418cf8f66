"""The ensemble predictor: every member loaded once, features assembled, stackers and decision applied."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medskills.core.errors import ModelPackError
from medskills.dicom.volume import HUVolume
from medskills.triage.models import EnsembleMember, UnavailableMember, load_member
from medskills.triage.pack import LoadedPack, load_pack
from medskills.triage.pack_manifest import FindingSpec, WeightRef
from medskills.triage.pathologies import group_of, rank_findings
from medskills.triage.prediction import FindingScore, TriagePrediction
from medskills.triage.preprocessing import StudyInputs
from medskills.triage.stacker import Stacker, load_stacker

__all__ = [
    "EnsemblePredictor",
    "FeatureRow",
    "compute_feature_row",
    "default_vocabulary",
    "load_members",
    "load_predictor",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureRow:
    """All member features of one study (NaN for members that did not run) and who ran."""

    values: dict[str, float]
    members_available: list[str]
    member_unavailable_reasons: dict[str, str] = field(default_factory=dict)

    def ordered(self, names: Sequence[str]) -> np.ndarray:
        """Values in ``names`` order as a float64 vector."""
        return np.asarray([self.values[name] for name in names], dtype=np.float64)


def compute_feature_row(members: Sequence[EnsembleMember], volume: HUVolume) -> FeatureRow:
    """Run every member once on ``volume``; a failing member gives NaN and a recorded reason."""
    inputs = StudyInputs(volume)
    values: dict[str, float] = {}
    available: list[str] = []
    reasons: dict[str, str] = {}
    for member in members:
        if isinstance(member, UnavailableMember):
            reasons[member.name] = member.reason
            row = member.compute(inputs)
        else:
            try:
                row = member.compute(inputs)
                available.append(member.name)
            except (RuntimeError, ValueError, MemoryError) as err:
                logger.exception("member %s failed on %s", member.name, volume.series_uid)
                reasons[member.name] = f"failed: {type(err).__name__}: {err}"
                row = np.full(len(member.feature_names), np.nan)
        values.update(zip(member.feature_names, (float(v) for v in row), strict=True))
    return FeatureRow(values, available, reasons)


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
    """Implements :class:`medskills.triage.Predictor` for a loaded model pack."""

    def __init__(
        self, *, pack: LoadedPack, members: Sequence[EnsembleMember], main: Stacker, thoracic: Stacker | None
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

    def features(self, volume: HUVolume) -> FeatureRow:
        """Every member's features for ``volume`` (see :func:`compute_feature_row`)."""
        return compute_feature_row(self.members, volume)

    def predict(self, volume: HUVolume) -> TriagePrediction:
        """Features -> main (and thoracic) stacker -> decision -> ranked findings."""
        manifest = self.pack.manifest
        row = self.features(volume)
        matrix = row.ordered(self.main.feature_names)[None, :]
        probability = float(np.clip(self.main.predict_probability(matrix)[0], 0.0, 1.0))
        pathology = int(probability >= manifest.thresholds.main)
        thoracic_probability = thoracic_pathology = thoracic_threshold = None
        if self.thoracic is not None:
            thoracic_probability = float(np.clip(self.thoracic.predict_probability(matrix)[0], 0.0, 1.0))
            thoracic_threshold = manifest.thresholds.thoracic
            thoracic_pathology = int(thoracic_probability >= thoracic_threshold)
        ranked = rank_findings(row.values, self._rules, is_pathology=pathology == 1, top_k=manifest.top_k)
        return TriagePrediction(
            probability_of_pathology=probability,
            pathology=pathology,
            threshold=manifest.thresholds.main,
            top_pathologies=[finding.name for finding in ranked],
            probability_of_pathology_thoracic=thoracic_probability,
            pathology_thoracic=thoracic_pathology,
            threshold_thoracic=thoracic_threshold,
            model_version=manifest.model_version,
            members_available=row.members_available,
            members_unavailable=sorted(row.member_unavailable_reasons),
            member_unavailable_reasons=row.member_unavailable_reasons,
            feature_list_sha256=manifest.features.sha256 if manifest.features else None,
            top_pathology_scores=[
                FindingScore(name=f.name, group=f.group, score=f.score, threshold=f.threshold) for f in ranked
            ],
        )


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
    """Verify the pack, load every member and both stackers once, and return the predictor.

    Raises:
        ModelPackError: hash mismatch, pickle, feature-order mismatch, features no member produces.
    """
    pack = load_pack(pack_dir)
    manifest = pack.manifest
    assert manifest.stacker is not None and manifest.features is not None  # load_pack requires them
    members = load_members(pack)
    _check_feature_coverage(pack, members)
    names = manifest.features.names
    main = load_stacker(_stacker_path(pack, manifest.stacker.main), expected_features=names)
    thoracic = None
    if manifest.stacker.thoracic is not None:
        thoracic = load_stacker(_stacker_path(pack, manifest.stacker.thoracic), expected_features=names)
    for member in members:
        if isinstance(member, UnavailableMember):
            logger.warning("member %s unavailable: %s", member.name, member.reason)
    return EnsemblePredictor(pack=pack, members=members, main=main, thoracic=thoracic)
