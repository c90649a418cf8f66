"""Mask evidence: expected MAISI ids against present ids, and every mask gate firing."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medskills.core.models import Invocation, Status, utc_now
from medskills.synthesis.ct_mask.evidence import inspect_masks
from medskills.synthesis.ct_mask.gates import CTMaskGate, evaluate_mask_gates


def _mask(tmp_path: Path, ids: list[int], name: str = "mask_0000.nii.gz") -> Path:
    labels = np.zeros((6, 6, 6), dtype=np.int16)
    for index, label_id in enumerate(ids):
        labels[index, 0, 0] = label_id
    path = tmp_path / name
    nib.save(nib.Nifti1Image(labels, np.diag([1.5, 1.5, 1.5, 1.0])), str(path))
    return path


def _failed(output, exit_code: int = 0, expected_samples: int = 1) -> set[str]:  # type: ignore[no-untyped-def]
    invocation = Invocation(argv=["x"], cwd=Path("."), exit_code=exit_code, timeout_seconds=1, runtime_seconds=0,
                            started_at=utc_now())
    gates = evaluate_mask_gates(invocation, output, expected_samples=expected_samples)
    return {gate.gate for gate in gates if gate.status is Status.FAILED}


def test_expected_ids_present_pass(tmp_path: Path) -> None:
    output = inspect_masks(tmp_path, [_mask(tmp_path, [23, 1, 200])], expected_ids=[23, 1])
    assert output.all_expected_maisi_labels_present and output.union_label_ids_present == [1, 23, 200]
    assert output.samples[0].foreground_label_ids_present == [1, 23]
    assert _failed(output) == set()


def test_missing_expected_id_is_reported_and_fails(tmp_path: Path) -> None:
    output = inspect_masks(tmp_path, [_mask(tmp_path, [1, 200])], expected_ids=[23, 1])
    assert output.missing_expected_maisi_label_ids == [23]
    assert "expected_labels_present" in _failed(output)


def test_foreign_ids_wrong_count_and_exit_fail(tmp_path: Path) -> None:
    output = inspect_masks(tmp_path, [_mask(tmp_path, [1, 150, 200])], expected_ids=[1])
    assert output.foreign_label_ids == [150]
    assert {"label_ids_in_maisi_space", "masks_written", "upstream_exit_zero"} <= _failed(
        output, exit_code=1, expected_samples=2)


def test_unreadable_or_empty_outputs_fail(tmp_path: Path) -> None:
    broken = tmp_path / "mask_0000.nii.gz"
    broken.write_bytes(b"junk")
    output = inspect_masks(tmp_path, [broken], expected_ids=[1])
    assert not output.all_masks_readable and "masks_readable" in _failed(output)
    empty = inspect_masks(tmp_path, [], expected_ids=[1])
    assert not empty.all_expected_maisi_labels_present and "masks_written" in _failed(empty)


def test_mask_gates_are_the_gate_enum_in_order(tmp_path):
    output = inspect_masks(tmp_path, [_mask(tmp_path, [23, 200])], expected_ids=[23])
    invocation = Invocation(argv=["x"], cwd=Path("."), exit_code=0, timeout_seconds=1, runtime_seconds=0,
                            started_at=utc_now())
    gates = evaluate_mask_gates(invocation, output, expected_samples=1)
    assert [gate.gate for gate in gates] == [gate.value for gate in CTMaskGate]
    assert all(gate.status is Status.PASSED for gate in gates)
