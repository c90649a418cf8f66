"""The calibrated organ table of ``ct_pair_consistency_v1``: which organs are gated, at what Dice, on which side.

The numbers live in ``medskills/data/verification/ct_pair_consistency.json``; they come from
``benchmarks/ct_pair_consistency_calibration.py`` (results in ``benchmarks/results/``), which runs
correct and deliberately broken pairs of the real scans. An organ without a ``dice_threshold`` is
measured and reported but never fails a pair (LiteMedSAM is too weak on it to tell).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from medskills.core.models import FrozenModel
from medskills.verification.ct_pair_consistency_measure import Side

__all__ = ["ConsistencyCalibration", "OrganCalibration", "load_consistency_calibration"]


class OrganCalibration(FrozenModel):
    """One organ: its anatomy name (the anatomy table's spelling), Dice gate and expected side."""

    anatomy: str
    dice_threshold: float | None
    side: Side | None = None
    note: str = ""


class ConsistencyCalibration(FrozenModel):
    """The whole table and the settings it was calibrated with."""

    source: str
    slices_per_organ: int
    side_margin_mm: float
    min_prompt_pixels: int
    organs: list[OrganCalibration]

    def organ(self, anatomy: str) -> OrganCalibration | None:
        return next((item for item in self.organs if item.anatomy == anatomy), None)


@cache
def load_consistency_calibration() -> ConsistencyCalibration:
    """Read the packaged calibration table."""
    text = resources.files("medskills").joinpath("data", "verification", "ct_pair_consistency.json")
    return ConsistencyCalibration.model_validate_json(text.read_text(encoding="utf-8"))
