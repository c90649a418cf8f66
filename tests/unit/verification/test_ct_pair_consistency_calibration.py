"""ct_pair_consistency_v1's packaged calibration table: loading, lookup, schema, agreement with its benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from medskills.core.label_spaces import LabelSpace, load_anatomy_table, load_label_dictionary
from medskills.verification.ct_pair_consistency_calibration import (
    ConsistencyCalibration, OrganCalibration, load_consistency_calibration,
)
from medskills.verification.ct_pair_consistency_measure import Side

REPO_ROOT = Path(__file__).resolve().parents[3]
BENCHMARK_RESULTS = REPO_ROOT / "benchmarks" / "results" / "ct_pair_consistency_calibration.json"


@pytest.fixture(scope="module")
def benchmark() -> dict[str, Any]:
    """What ``benchmarks/ct_pair_consistency_calibration.py`` measured on the real scans."""
    document: dict[str, Any] = json.loads(BENCHMARK_RESULTS.read_text(encoding="utf-8"))
    return document


def test_load_consistency_calibration_reads_the_table_once_and_returns_the_same_object() -> None:
    assert load_consistency_calibration() is load_consistency_calibration()


def test_organ_finds_an_anatomy_by_its_exact_spelling_only() -> None:
    calibration = load_consistency_calibration()
    liver = calibration.organ("liver")
    assert liver is not None and liver.anatomy == "liver"
    assert calibration.organ("Liver") is None and calibration.organ("kidney") is None


def test_every_calibrated_anatomy_is_a_row_of_the_anatomy_table_with_a_maisi_name() -> None:
    """Otherwise organs_in_labels could never find it, in a pair or in a synthesis run (MAISI ids)."""
    table = {row.anatomy: row for row in load_anatomy_table().values()}
    maisi = set(load_label_dictionary(LabelSpace.MAISI).names())
    for item in load_consistency_calibration().organs:
        assert item.anatomy in table, item.anatomy
        assert table[item.anatomy].names[LabelSpace.MAISI] in maisi, item.anatomy


def test_each_organ_is_listed_once_with_a_dice_threshold_between_0_and_1_or_a_note_why_not() -> None:
    organs = load_consistency_calibration().organs
    assert len({item.anatomy for item in organs}) == len(organs)
    for item in organs:
        if item.dice_threshold is None:
            assert item.note, f"{item.anatomy}: an ungated organ says why it is not gated"
        else:
            assert 0.0 < item.dice_threshold < 1.0, item.anatomy


def test_a_lateral_organ_is_expected_on_its_own_side_and_the_great_vessels_on_none() -> None:
    calibration = load_consistency_calibration()
    for side in Side:
        named = [item for item in calibration.organs if item.anatomy.startswith(f"{side.value} ")]
        assert named and all(item.side is side for item in named), side
    expected = {"liver": Side.RIGHT, "gallbladder": Side.RIGHT, "spleen": Side.LEFT, "stomach": Side.LEFT,
                "aorta": None, "inferior vena cava": None}
    assert {name: calibration.organ(name).side for name in expected} == expected  # type: ignore[union-attr]


def test_calibration_models_refuse_unknown_keys_unknown_sides_and_missing_settings() -> None:
    with pytest.raises(ValidationError, match="dice_treshold"):
        OrganCalibration.model_validate({"anatomy": "liver", "dice_treshold": 0.9})
    with pytest.raises(ValidationError, match="side"):
        OrganCalibration.model_validate({"anatomy": "aorta", "dice_threshold": 0.7, "side": "middle"})
    liver = OrganCalibration.model_validate({"anatomy": "liver", "dice_threshold": 0.9, "side": "right"})
    assert liver.side is Side.RIGHT
    with pytest.raises(ValidationError, match="min_prompt_pixels"):
        ConsistencyCalibration.model_validate({"source": "x", "slices_per_organ": 3, "side_margin_mm": 0.0,
                                               "organs": []})


def test_every_dice_gate_is_the_threshold_its_benchmark_proposed(benchmark: dict[str, Any]) -> None:
    summary = benchmark["summary"]
    calibration = load_consistency_calibration()
    assert {item.anatomy for item in calibration.organs} == set(summary)
    assert calibration.slices_per_organ == benchmark["slices_per_organ"]
    for item in calibration.organs:
        if item.dice_threshold is not None:
            assert item.dice_threshold == summary[item.anatomy]["proposed_threshold"], item.anatomy


def test_every_dice_gate_separates_the_correct_pairs_from_the_broken_ones(benchmark: dict[str, Any]) -> None:
    for item in load_consistency_calibration().organs:
        measured = benchmark["summary"][item.anatomy]
        if item.dice_threshold is not None:
            broken = max(measured["shift_max"], measured["flip_max"])
            assert broken < item.dice_threshold <= measured["correct_min"], item.anatomy


def test_the_side_margin_separates_correct_sides_from_flipped_ones(benchmark: dict[str, Any]) -> None:
    calibration = load_consistency_calibration()
    lateral = [benchmark["summary"][item.anatomy] for item in calibration.organs if item.side is not None]
    assert lateral
    assert max(item["flip_side_max_mm"] for item in lateral) < calibration.side_margin_mm
    assert calibration.side_margin_mm < min(item["correct_side_min_mm"] for item in lateral)


def test_the_source_names_a_benchmark_script_and_results_that_exist() -> None:
    source = load_consistency_calibration().source
    script, results = source.split(" -> ")[0], source.split(" -> ")[1].split(":")[0]
    assert (REPO_ROOT / script).is_file() and (REPO_ROOT / results) == BENCHMARK_RESULTS
