"""LightGBM stacker boosters read from native text model files, with the feature order checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import ModelPackError

__all__ = ["Stacker", "load_stacker"]


@dataclass(frozen=True)
class Stacker:
    """One binary booster; ``feature_names`` equal the pack's ordered list."""

    booster: Any
    feature_names: tuple[str, ...]
    path: Path

    def predict_probability(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """P(positive) for each row of ``rows`` ``[N, F]``; NaN cells are LightGBM missing values."""
        if rows.ndim != 2 or rows.shape[1] != len(self.feature_names):
            raise ValueError(f"stacker expects [N, {len(self.feature_names)}] features, got {rows.shape}")
        return np.asarray(self.booster.predict(rows), dtype=np.float64)


def load_stacker(path: Path, *, expected_features: Sequence[str]) -> Stacker:
    """Load a LightGBM text model and refuse it unless its features are the pack's, in order.

    Raises:
        ModelPackError: unreadable model, or a feature list that differs from ``expected_features``.
    """
    import lightgbm as lgb

    path = Path(path)
    try:
        booster = lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as err:
        raise ModelPackError(
            f"{path} is not a LightGBM text model ({err}). Save boosters with Booster.save_model(); "
            "pickled or joblib models are refused."
        ) from err
    actual = tuple(booster.feature_name())
    expected = tuple(expected_features)
    if actual != expected:
        raise ModelPackError(f"{path}: {_describe_mismatch(actual, expected)}. Retrain the stacker or fix pack.yaml.")
    return Stacker(booster=booster, feature_names=actual, path=path)


def _describe_mismatch(actual: tuple[str, ...], expected: tuple[str, ...]) -> str:
    missing = [name for name in expected if name not in set(actual)]
    extra = [name for name in actual if name not in set(expected)]
    if missing or extra:
        return (
            f"booster features differ from the pack list: {len(missing)} in the pack but not the booster "
            f"(e.g. {missing[:3]}), {len(extra)} in the booster but not the pack (e.g. {extra[:3]})"
        )
    first = next(i for i, (a, b) in enumerate(zip(actual, expected, strict=True)) if a != b)
    return (
        f"booster features are in a different order: position {first} is {actual[first]!r}, "
        f"pack says {expected[first]!r}"
    )
