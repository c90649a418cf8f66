"""Library entry points behind ``medskills triage predict`` and ``extract-features``."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from pydantic import Field

from medskills.core.errors import UsageError
from medskills.core.io import prepare_output_dir
from medskills.core.models import DISCLAIMER, SCHEMA_VERSION, FrozenModel
from medskills.dicom.volume import HUVolume
from medskills.triage.ensemble import FeatureRow, compute_feature_row, load_members, load_predictor
from medskills.triage.features import FeatureTable, write_feature_table
from medskills.triage.models import UnavailableMember
from medskills.triage.pack import load_pack
from medskills.triage.prediction import TriagePrediction

__all__ = [
    "FeatureExtractionRecord",
    "PackWeightRecord",
    "StudyPredictionRecord",
    "extract_features",
    "predict_study",
    "read_study_volume",
]

logger = logging.getLogger(__name__)


class PackWeightRecord(FrozenModel):
    """One verified weight of the pack: where it was, its pinned sha256, the wheel version if packaged."""

    reference: str
    path: Path | None
    sha256: str
    package_version: str | None = None
    missing_reason: str | None = None


class StudyPredictionRecord(FrozenModel):
    """One study's triage result as printed by ``medskills triage predict``."""

    schema_version: str = SCHEMA_VERSION
    source_path: Path
    study_uid: str
    series_uid: str
    pack_dir: Path
    prediction: TriagePrediction
    runtime_seconds: float
    weights: list[PackWeightRecord] = Field(default_factory=list)
    disclaimer: str = DISCLAIMER


class FeatureExtractionRecord(FrozenModel):
    """What ``extract-features`` wrote."""

    schema_version: str = SCHEMA_VERSION
    table_path: Path
    pack_dir: Path
    studies: list[str]
    feature_count: int
    members_available: list[str]
    member_unavailable_reasons: dict[str, str] = Field(default_factory=dict)
    disclaimer: str = DISCLAIMER


def read_study_volume(path: Path) -> HUVolume:
    """Read one study as a canonical HU volume (NIfTI ``.nii`` / ``.nii.gz``)."""
    from medskills.dicom import read_nifti_volume

    return read_nifti_volume(Path(path))


def predict_study(image: Path, *, pack_dir: Path) -> StudyPredictionRecord:
    """Load the pack once, read the study, and predict."""
    volume = read_study_volume(image)  # cheap input errors first, before any model loads
    predictor = load_predictor(pack_dir)
    started = time.perf_counter()
    prediction = predictor.predict(volume)
    return StudyPredictionRecord(
        source_path=Path(image).absolute(),
        study_uid=volume.study_uid,
        series_uid=volume.series_uid,
        pack_dir=Path(pack_dir).absolute(),
        prediction=prediction,
        runtime_seconds=time.perf_counter() - started,
        weights=[
            PackWeightRecord(
                reference=w.ref.path,
                path=w.path,
                sha256=w.ref.sha256,
                package_version=w.package_version,
                missing_reason=w.missing_reason,
            )
            for w in predictor.pack.weights.values()
        ],
    )


def extract_features(studies: list[Path], *, pack_dir: Path, output_dir: Path) -> FeatureExtractionRecord:
    """Run every member of the pack (stacker not needed) on each study; write ``features.csv``.

    Raises:
        UsageError: no studies, or an output directory that is not new/empty.
    """
    if not studies:
        raise UsageError("extract-features needs at least one study path.")
    pack = load_pack(pack_dir, require_stacker=False)
    members = load_members(pack)
    output_dir = prepare_output_dir(output_dir)
    names = tuple(name for member in members for name in member.feature_names)
    rows: list[FeatureRow] = []
    ids: list[str] = []
    for path in studies:
        volume = read_study_volume(path)
        if volume.study_uid in ids:
            raise UsageError(
                f"{path}: study id {volume.study_uid!r} repeats an earlier study; feature rows are keyed by study id, "
                "so give each NIfTI file a distinct name."
            )
        rows.append(compute_feature_row(members, volume))
        ids.append(volume.study_uid)
        logger.info("features extracted for %s", path)
    table = FeatureTable(tuple(ids), names, np.vstack([row.ordered(names) for row in rows]))
    table_path = write_feature_table(output_dir / "features.csv", table)
    return FeatureExtractionRecord(
        table_path=table_path,
        pack_dir=pack.root,
        studies=ids,
        feature_count=len(names),
        members_available=[m.name for m in members if not isinstance(m, UnavailableMember)],
        member_unavailable_reasons={m.name: m.reason for m in members if isinstance(m, UnavailableMember)},
    )
