"""Stacker training: recovers a known signal, picks thresholds by rule, writes a loadable pack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import InputError, UsageError
from medskills.triage.pack import read_manifest
from medskills.triage.pack_manifest import StackerProvenance
from medskills.triage.stacker import load_stacker
from medskills.triage.training import ThresholdRule, TrainStackerRequest, choose_threshold, train_stacker
from triage_models_support.builders import generated_feature_table

NAMES = [f"feature_{i}" for i in range(12)]


def _request(tmp_path: Path, **kwargs: object) -> TrainStackerRequest:
    features, labels = tmp_path / "features.csv", tmp_path / "labels.csv"
    if not features.exists():
        generated_feature_table(features, labels, NAMES, studies=120, signal="feature_5")
    options = {"folds": 4, "boosting_rounds": 50, "output_dir": tmp_path / "pack"} | kwargs
    return TrainStackerRequest(features_path=features, labels_path=labels, **options)


def test_training_recovers_the_known_signal_and_writes_a_pack(tmp_path: Path) -> None:
    record = train_stacker(_request(tmp_path))
    assert record.main.auc > 0.9 and record.thoracic is not None and record.thoracic.auc > 0.9
    manifest = read_manifest(record.pack_dir)
    assert manifest.features is not None and list(manifest.features.names) == NAMES
    assert manifest.thresholds.main == pytest.approx(record.main.threshold)
    assert "youden" in manifest.thresholds.rule
    stacker = load_stacker(record.pack_dir / "stacker_main.txt", expected_features=NAMES)
    importance = stacker.booster.feature_importance(importance_type="gain")
    assert int(np.argmax(importance)) == NAMES.index("feature_5")
    assert (record.pack_dir / "training_report.json").is_file()


def test_pack_records_where_its_stacker_came_from(tmp_path: Path) -> None:
    fitted = train_stacker(_request(tmp_path, fitted_on="120 studies of the hospital test set"))
    stacker = read_manifest(fitted.pack_dir).stacker
    assert stacker is not None and stacker.provenance is StackerProvenance.FITTED
    assert stacker.fitted_on.description == "120 studies of the hospital test set"
    assert stacker.fitted_on.study_count == 120 and fitted.fitted_on == stacker.fitted_on
    synthetic = train_stacker(_request(tmp_path, output_dir=tmp_path / "synthetic",
                                       provenance=StackerProvenance.SYNTHETIC))
    stacker = read_manifest(synthetic.pack_dir).stacker
    assert stacker is not None and stacker.provenance is StackerProvenance.SYNTHETIC
    assert "generated features" in stacker.fitted_on.description and "not a model" in stacker.fitted_on.description


def test_training_refuses_provenance_none() -> None:
    with pytest.raises(ValueError, match="provenance 'none' means no stacker"):
        TrainStackerRequest(features_path=Path("f.csv"), labels_path=Path("l.csv"), output_dir=Path("o"),
                            provenance=StackerProvenance.NONE)


def test_sensitivity_rule_reaches_its_target(tmp_path: Path) -> None:
    record = train_stacker(_request(tmp_path, threshold_rule=ThresholdRule.SENSITIVITY, target_sensitivity=0.95))
    assert record.main.sensitivity >= 0.95


def test_choose_threshold_youden_on_separable_scores() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    threshold, sensitivity, specificity = choose_threshold(
        labels, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]), rule=ThresholdRule.YOUDEN, target_sensitivity=0.9
    )
    assert 0.3 < threshold <= 0.7 and sensitivity == 1.0 and specificity == 1.0


def test_thoracic_stacker_is_skipped_without_thoracic_labels(tmp_path: Path) -> None:
    request = _request(tmp_path)
    rows = request.labels_path.read_text().splitlines()
    request.labels_path.write_text("\n".join(",".join(r.split(",")[:2]) for r in rows) + "\n")
    record = train_stacker(request)
    assert record.thoracic is None
    manifest = read_manifest(record.pack_dir)
    assert manifest.stacker is not None and manifest.stacker.thoracic is None


def test_too_few_labelled_studies_per_class_is_an_input_error(tmp_path: Path) -> None:
    request = _request(tmp_path, folds=70)
    with pytest.raises(InputError, match="lower --folds"):
        train_stacker(request)


def test_non_numeric_cells_are_reported_with_their_row(tmp_path: Path) -> None:
    request = _request(tmp_path)
    text = request.features_path.read_text().splitlines()
    text[3] = text[3].rsplit(",", 1)[0] + ",abc"
    request.features_path.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match="row 4"):
        train_stacker(request)


def test_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    request = _request(tmp_path)
    request.output_dir.mkdir()
    (request.output_dir / "keep.txt").write_text("user data")
    with pytest.raises(UsageError, match="not empty"):
        train_stacker(request)
    assert (request.output_dir / "keep.txt").read_text() == "user data"


def test_parquet_tables_are_read(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow", reason="parquet support needs pyarrow (medskills[models])")
    import csv

    import pyarrow.parquet as pq

    request = _request(tmp_path)
    with request.features_path.open() as handle:
        rows = list(csv.DictReader(handle))
    columns = {k: [r[k] if k == "study_id" else (float(r[k]) if r[k] else None) for r in rows] for k in rows[0]}
    parquet = tmp_path / "features.parquet"
    pq.write_table(pyarrow.table(columns), parquet)
    record = train_stacker(request.model_copy(update={"features_path": parquet}))
    assert record.main.auc > 0.9
