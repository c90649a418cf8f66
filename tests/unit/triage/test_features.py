"""Feature tables: CSV round trip with NaN as empty cells, and the errors that name the row or column."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.triage.features import FeatureTable, read_feature_table, read_labels, write_feature_table


def test_a_table_round_trips_with_nan_as_an_empty_cell(tmp_path: Path) -> None:
    table = FeatureTable(("s1", "s2"), ("ctclip:nodule", "qct:emphysema_pct"),
                         np.array([[0.25, math.nan], [1e-9, 12.5]], dtype=np.float64))
    path = write_feature_table(tmp_path / "features.csv", table)
    assert path.read_text().splitlines()[1] == "s1,0.25,"
    back = read_feature_table(path)
    assert back.study_ids == table.study_ids and back.feature_names == table.feature_names
    np.testing.assert_array_equal(back.values, table.values)  # NaN == NaN here, exact floats


def test_study_id_may_be_any_column_and_na_spellings_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,study_id,b\n1,s1,NA\nnan,s2,2\n")
    table = read_feature_table(path)
    assert table.feature_names == ("a", "b") and table.study_ids == ("s1", "s2")
    assert table.values[0, 0] == 1 and math.isnan(table.values[0, 1]) and math.isnan(table.values[1, 0])


@pytest.mark.parametrize(("text", "needle"), [
    ("a,b\n1,2\n", "has no 'study_id' column"),
    ("study_id,a\ns1,1\ns1,2\n", "study ids repeat"),
    ("study_id,a\ns1,1\ns2,high\n", "row 3: 'high' is not a number"),
])
def test_bad_tables_are_refused_with_the_place(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=needle):
        read_feature_table(path)


def test_other_suffixes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(InputError, match=r"expected a \.csv or \.parquet"):
        read_feature_table(tmp_path / "t.xlsx")


def test_labels_keep_present_columns_and_skip_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("study_id,pathology,nodule\ns1,1,\ns2,0,1\n")
    assert read_labels(path, columns=["pathology", "nodule", "absent"]) == {
        "pathology": {"s1": 1, "s2": 0}, "nodule": {"s2": 1}}


def test_a_label_other_than_0_or_1_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("study_id,pathology\ns1,1\ns2,yes\n")
    with pytest.raises(InputError, match="line 3: pathology='yes'"):
        read_labels(path, columns=["pathology"])
