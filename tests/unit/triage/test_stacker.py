"""LightGBM stacker loading: native text only, feature order checked, NaN passed through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import ModelPackError
from medskills.triage.stacker import load_stacker


def _booster_file(path: Path, names: list[str]) -> Path:
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, len(names)))
    y = (x[:, 0] > 0).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5}
    lgb.train(params, lgb.Dataset(x, label=y, feature_name=names), num_boost_round=5).save_model(str(path))
    return path


def test_stacker_loads_when_features_match_and_accepts_nan(tmp_path: Path) -> None:
    stacker = load_stacker(_booster_file(tmp_path / "m.txt", ["a", "b", "c"]), expected_features=["a", "b", "c"])
    probabilities = stacker.predict_probability(np.array([[np.nan, 0.0, np.nan], [2.0, 0.0, 0.0]]))
    assert probabilities.shape == (2,) and np.all(np.isfinite(probabilities))


def test_stacker_refuses_a_different_feature_order(tmp_path: Path) -> None:
    path = _booster_file(tmp_path / "m.txt", ["a", "b", "c"])
    with pytest.raises(ModelPackError, match="different order: position 0"):
        load_stacker(path, expected_features=["b", "a", "c"])


def test_stacker_refuses_missing_or_extra_features(tmp_path: Path) -> None:
    path = _booster_file(tmp_path / "m.txt", ["a", "b", "c"])
    with pytest.raises(ModelPackError, match="1 in the pack but not the booster"):
        load_stacker(path, expected_features=["a", "b", "d"])


def test_stacker_refuses_non_lightgbm_files(tmp_path: Path) -> None:
    path = tmp_path / "m.txt"
    path.write_text("hello")
    with pytest.raises(ModelPackError, match="not a LightGBM text model"):
        load_stacker(path, expected_features=["a"])


def test_stacker_rejects_rows_of_the_wrong_width(tmp_path: Path) -> None:
    stacker = load_stacker(_booster_file(tmp_path / "m.txt", ["a", "b"]), expected_features=["a", "b"])
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        stacker.predict_probability(np.zeros((1, 3)))
