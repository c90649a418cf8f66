"""Feature tables (one row per study) on disk, and extracting them from studies with a pack."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.core.io import write_text_atomic

__all__ = ["FeatureTable", "read_feature_table", "read_labels", "write_feature_table"]

STUDY_COLUMN = "study_id"


@dataclass(frozen=True)
class FeatureTable:
    """Study ids, ordered feature names and a float64 matrix ``[studies, features]`` (NaN = missing)."""

    study_ids: tuple[str, ...]
    feature_names: tuple[str, ...]
    values: npt.NDArray[np.float64]


def _parse_float(text: str, *, where: str) -> float:
    if text.strip() == "" or text.strip().lower() in {"nan", "na", "null"}:
        return math.nan
    try:
        return float(text)
    except ValueError as err:
        raise InputError(
            f"{where}: {text!r} is not a number. Use a decimal number, or leave the cell empty for missing."
        ) from err


def read_feature_table(path: Path) -> FeatureTable:
    """Read a ``.csv`` or ``.parquet`` table with a ``study_id`` column and numeric feature columns.

    Raises:
        InputError: unreadable file, no ``study_id`` column, duplicate ids, or non-numeric cells.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"feature table {path} does not exist.")
    rows: list[list[object]]
    if path.suffix.lower() == ".parquet":
        header, rows = _read_parquet(path)
    elif path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            rows = [list(row) for row in reader if row]
    else:
        raise InputError(f"feature table {path}: expected a .csv or .parquet file.")
    if STUDY_COLUMN not in header:
        raise InputError(f"feature table {path} has no {STUDY_COLUMN!r} column (columns: {header[:5]}...).")
    id_index = header.index(STUDY_COLUMN)
    names = tuple(h for i, h in enumerate(header) if i != id_index)
    ids = tuple(str(row[id_index]) for row in rows)
    if len(set(ids)) != len(ids):
        raise InputError(f"feature table {path}: study ids repeat; each study must appear once.")
    values = np.array(
        [
            [_parse_float(str(v), where=f"{path} row {r + 2}") for i, v in enumerate(row) if i != id_index]
            for r, row in enumerate(rows)
        ],
        dtype=np.float64,
    ).reshape(len(rows), len(names))
    return FeatureTable(ids, names, values)


def _read_parquet(path: Path) -> tuple[list[str], list[list[object]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise InputError(
            "reading .parquet needs pyarrow: pip install 'medskills[models]', or pass a .csv table."
        ) from err
    table = pq.read_table(path)
    columns = table.column_names
    data = table.to_pydict()
    rows = [["" if data[c][r] is None else data[c][r] for c in columns] for r in range(table.num_rows)]
    return list(columns), rows


def write_feature_table(path: Path, table: FeatureTable) -> Path:
    """Write ``table`` as CSV atomically (empty cells for NaN)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([STUDY_COLUMN, *table.feature_names])
    for study, row in zip(table.study_ids, table.values, strict=True):
        writer.writerow([study, *("" if math.isnan(v) else repr(float(v)) for v in row)])
    return write_text_atomic(Path(path), buffer.getvalue())


def read_labels(path: Path, *, columns: Sequence[str]) -> dict[str, dict[str, int]]:
    """Read ``study_id`` + 0/1 label columns from a CSV; a column absent from the file is skipped.

    Returns:
        column name -> {study id -> label}, only for columns present in the file.

    Raises:
        InputError: missing file, no ``study_id``, none of ``columns``, or a label other than 0/1.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"labels file {path} does not exist.")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        present = [c for c in columns if c in fields]
        if STUDY_COLUMN not in fields or not present:
            raise InputError(
                f"labels file {path} needs a {STUDY_COLUMN!r} column and one of {list(columns)}; has {fields}."
            )
        labels: dict[str, dict[str, int]] = {c: {} for c in present}
        for line, row in enumerate(reader, start=2):
            for column in present:
                cell = (row[column] or "").strip()
                if cell == "":
                    continue
                if cell not in {"0", "1"}:
                    raise InputError(f"{path} line {line}: {column}={cell!r}; labels must be 0 or 1 (empty = unknown).")
                labels[column][row[STUDY_COLUMN]] = int(cell)
    return labels
