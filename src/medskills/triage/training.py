"""Train the main and thoracic LightGBM stackers with stratified cross-validation and write a pack.

Threshold rule (documented in ``docs/triage_models.md``): on the out-of-fold probabilities,
``youden`` picks the ROC point maximising sensitivity + specificity - 1; ``sensitivity`` picks the
highest threshold whose sensitivity reaches ``target_sensitivity``. AUC, sensitivity and
specificity are reported out of fold, at that threshold. The saved boosters are then refit on all
labelled studies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from medskills.core.errors import InputError, UsageError
from medskills.core.io import prepare_output_dir, sha256_file, write_json_atomic
from medskills.core.models import SCHEMA_VERSION, FrozenModel
from medskills.triage.features import FeatureTable, read_feature_table, read_labels
from medskills.triage.pack import read_manifest, write_manifest
from medskills.triage.pack_manifest import (
    FeatureListSpec,
    FittedOn,
    MemberSpec,
    ModelPackManifest,
    StackerProvenance,
    StackerSpec,
    ThresholdSpec,
    WeightRef,
    feature_list_sha256,
)

__all__ = [
    "StackerMetrics",
    "ThresholdRule",
    "TrainStackerRequest",
    "TrainingRecord",
    "choose_threshold",
    "train_stacker",
]

logger = logging.getLogger(__name__)

LABEL_COLUMNS = ("label", "label_thoracic")


class ThresholdRule(StrEnum):
    """How the decision threshold is chosen on out-of-fold probabilities."""

    YOUDEN = "youden"
    SENSITIVITY = "sensitivity"


class TrainStackerRequest(FrozenModel):
    """Inputs of ``medskills triage train-stacker``."""

    features_path: Path
    labels_path: Path
    output_dir: Path
    base_pack: Path | None = None
    model_version: str | None = None
    folds: int = Field(default=5, ge=2)
    seed: int = 0
    threshold_rule: ThresholdRule = ThresholdRule.YOUDEN
    target_sensitivity: float = Field(default=0.9, gt=0.0, le=1.0)
    boosting_rounds: int = Field(default=200, ge=1)
    provenance: StackerProvenance = StackerProvenance.FITTED
    fitted_on: str | None = Field(
        default=None, description="What the labelled studies are; default: the labels file name."
    )

    @field_validator("provenance")
    @classmethod
    def _check_provenance(cls, provenance: StackerProvenance) -> StackerProvenance:
        if provenance is StackerProvenance.NONE:
            raise ValueError("provenance 'none' means no stacker; train-stacker writes one: use fitted or synthetic")
        return provenance


class StackerMetrics(FrozenModel):
    """Out-of-fold quality of one stacker at its chosen threshold."""

    target: str
    studies: int
    positives: int
    auc: float
    threshold: float
    sensitivity: float
    specificity: float
    model_file: str
    model_sha256: str


class TrainingRecord(FrozenModel):
    """What ``train-stacker`` did; also written to ``PACK_DIR/training_report.json``."""

    schema_version: str = SCHEMA_VERSION
    pack_dir: Path
    model_version: str
    feature_count: int
    threshold_rule: ThresholdRule
    folds: int
    seed: int
    stacker_provenance: StackerProvenance
    fitted_on: FittedOn
    main: StackerMetrics
    thoracic: StackerMetrics | None = None


@dataclass(frozen=True)
class _Labelled:
    values: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]


def choose_threshold(
    labels: npt.NDArray[np.int64],
    probabilities: npt.NDArray[np.float64],
    *,
    rule: ThresholdRule,
    target_sensitivity: float,
) -> tuple[float, float, float]:
    """Pick a threshold by ``rule``; return ``(threshold, sensitivity, specificity)``."""
    from sklearn.metrics import roc_curve

    false_positive, true_positive, thresholds = roc_curve(labels, probabilities)
    thresholds = np.clip(thresholds, 0.0, 1.0)
    if rule is ThresholdRule.YOUDEN:
        best = int(np.argmax(true_positive - false_positive))
    else:
        reaching = np.flatnonzero(true_positive >= target_sensitivity)
        best = int(reaching[0])
    return float(thresholds[best]), float(true_positive[best]), float(1.0 - false_positive[best])


def _booster_params(seed: int) -> dict[str, object]:
    return {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 5,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "seed": seed,
        "deterministic": True,
        "num_threads": 1,
        "verbosity": -1,
    }


def _fit(data: _Labelled, names: tuple[str, ...], request: TrainStackerRequest) -> object:
    import lightgbm as lgb

    dataset = lgb.Dataset(data.values, label=data.labels, feature_name=list(names), free_raw_data=False)
    return lgb.train(_booster_params(request.seed), dataset, num_boost_round=request.boosting_rounds)


def _cross_validate(data: _Labelled, names: tuple[str, ...], request: TrainStackerRequest) -> npt.NDArray[np.float64]:
    from sklearn.model_selection import StratifiedKFold

    out_of_fold = np.zeros(len(data.labels), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=request.folds, shuffle=True, random_state=request.seed)
    for train_index, test_index in splitter.split(data.values, data.labels):
        booster = _fit(_Labelled(data.values[train_index], data.labels[train_index]), names, request)
        out_of_fold[test_index] = booster.predict(data.values[test_index])  # type: ignore[attr-defined]
    return out_of_fold


def _labelled(table: FeatureTable, labels: dict[str, int], *, target: str, folds: int) -> _Labelled:
    rows = [i for i, study in enumerate(table.study_ids) if study in labels]
    unlabelled = len(table.study_ids) - len(rows)
    if unlabelled:
        logger.warning("%s: %d studies in the feature table have no label and are left out", target, unlabelled)
    y = np.asarray([labels[table.study_ids[i]] for i in rows], dtype=np.int64)
    smallest = int(min((y == 0).sum(), (y == 1).sum())) if y.size else 0
    if smallest < folds:
        raise InputError(
            f"{target}: {y.size} labelled studies with {int((y == 1).sum())} positives; stratified {folds}-fold "
            f"cross-validation needs at least {folds} of each class. Add studies or lower --folds."
        )
    return _Labelled(table.values[rows], y)


def _train_one(data: _Labelled, names: tuple[str, ...], target: str, request: TrainStackerRequest) -> StackerMetrics:
    from sklearn.metrics import roc_auc_score

    out_of_fold = _cross_validate(data, names, request)
    threshold, sensitivity, specificity = choose_threshold(
        data.labels, out_of_fold, rule=request.threshold_rule, target_sensitivity=request.target_sensitivity
    )
    booster = _fit(data, names, request)
    model_file = f"stacker_{'main' if target == 'label' else 'thoracic'}.txt"
    model_path = request.output_dir / model_file
    booster.save_model(str(model_path))  # type: ignore[attr-defined]
    return StackerMetrics(
        target=target,
        studies=int(data.labels.size),
        positives=int(data.labels.sum()),
        auc=float(roc_auc_score(data.labels, out_of_fold)),
        threshold=threshold,
        sensitivity=sensitivity,
        specificity=specificity,
        model_file=model_file,
        model_sha256=sha256_file(model_path),
    )


def _fitted_on(request: TrainStackerRequest, main: StackerMetrics) -> FittedOn:
    default = f"studies labelled in {request.labels_path.name}"
    if request.provenance is StackerProvenance.SYNTHETIC:
        default = f"generated features and labels ({request.labels_path.name}): a pipeline check, not a model"
    return FittedOn(description=request.fitted_on or default, study_count=main.studies)


def _base_manifest(base_pack: Path | None) -> ModelPackManifest:
    """The base pack's manifest with member weight paths made absolute (weights are not copied)."""
    if base_pack is None:
        return ModelPackManifest(model_version="base")
    base = read_manifest(base_pack)
    root = Path(base_pack).absolute()
    return base.model_copy(update={"members": tuple(_absolute_member(member, root) for member in base.members)})


def _absolute_member(member: MemberSpec, root: Path) -> MemberSpec:
    updates = {}
    for key, value in member.__dict__.items():
        if isinstance(value, WeightRef) and not value.is_package and not Path(value.path).is_absolute():
            updates[key] = WeightRef(path=str(root / value.path), sha256=value.sha256)
    return member.model_copy(update=updates)


def train_stacker(request: TrainStackerRequest) -> TrainingRecord:
    """Train both stackers (thoracic only when ``label_thoracic`` is present) and write a new pack.

    Raises:
        InputError: unreadable tables, too few labelled studies per class.
        UsageError: the output directory is not new or empty.
    """
    table = read_feature_table(request.features_path)
    labels = read_labels(request.labels_path, columns=LABEL_COLUMNS)
    if "label" not in labels:
        raise InputError(f"labels file {request.labels_path} needs a 'label' column (0/1) for the main stacker.")
    if not table.feature_names:
        raise UsageError(f"feature table {request.features_path} has no feature columns.")
    output_dir = prepare_output_dir(request.output_dir)
    request = request.model_copy(update={"output_dir": output_dir})
    names = table.feature_names
    main = _train_one(_labelled(table, labels["label"], target="label", folds=request.folds), names, "label", request)
    thoracic = None
    if "label_thoracic" in labels:
        data = _labelled(table, labels["label_thoracic"], target="label_thoracic", folds=request.folds)
        thoracic = _train_one(data, names, "label_thoracic", request)
    model_version = request.model_version or f"stacker-{main.model_sha256[:12]}"
    rule = f"{request.threshold_rule.value} on {request.folds}-fold out-of-fold probabilities (seed {request.seed})"
    if request.threshold_rule is ThresholdRule.SENSITIVITY:
        rule += f", target sensitivity {request.target_sensitivity}"
    base = _base_manifest(request.base_pack)
    fitted_on = _fitted_on(request, main)
    manifest = ModelPackManifest(
        model_version=model_version,
        members=base.members,
        vocabulary=base.vocabulary,
        top_k=base.top_k,
        stacker=StackerSpec(
            main=WeightRef(path=main.model_file, sha256=main.model_sha256),
            thoracic=WeightRef(path=thoracic.model_file, sha256=thoracic.model_sha256) if thoracic else None,
            provenance=request.provenance,
            fitted_on=fitted_on,
        ),
        features=FeatureListSpec(names=names, sha256=feature_list_sha256(names)),
        thresholds=ThresholdSpec(main=main.threshold, thoracic=thoracic.threshold if thoracic else 0.5, rule=rule),
    )
    write_manifest(output_dir, manifest)
    record = TrainingRecord(
        pack_dir=output_dir,
        model_version=model_version,
        feature_count=len(names),
        threshold_rule=request.threshold_rule,
        folds=request.folds,
        seed=request.seed,
        stacker_provenance=request.provenance,
        fitted_on=fitted_on,
        main=main,
        thoracic=thoracic,
    )
    write_json_atomic(output_dir / "training_report.json", record)
    return record
