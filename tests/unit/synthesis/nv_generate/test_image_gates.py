"""Image gates: each gate fires on a volume built to fail it, and passes on good MR and CT volumes."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.models import Invocation, Status, utc_now
from medskills.synthesis.nv_generate.image_evidence import ImageKind, inspect_image, summarize_images
from medskills.synthesis.nv_generate.image_gates import ImageGate, evaluate_image_gates

SPACING = (1.0, 1.0, 2.0)


def _volume(tmp_path: Path, array: np.ndarray, name: str = "v.nii.gz") -> Path:
    path = tmp_path / name
    nib.save(nib.Nifti1Image(array, np.diag([*SPACING, 1.0])), str(path))
    return path


def _invocation(exit_code: int = 0) -> Invocation:
    return Invocation(argv=["x"], cwd=Path("."), exit_code=exit_code, timeout_seconds=1, runtime_seconds=0.1,
                      started_at=utc_now())


def _failed(tmp_path: Path, array: np.ndarray, kind: ImageKind, exit_code: int = 0) -> set[str]:
    image = inspect_image(_volume(tmp_path, array), kind=kind, requested_shape=(8, 8, 4), requested_spacing_mm=SPACING)
    output = summarize_images(tmp_path, [image], kind=kind)
    return {gate.gate for gate in evaluate_image_gates(_invocation(exit_code), output) if gate.status is Status.FAILED}


def _mr() -> np.ndarray:
    return np.arange(8 * 8 * 4, dtype=np.int16).reshape(8, 8, 4)


def _ct() -> np.ndarray:
    return np.linspace(-1000, 1000, 8 * 8 * 4, dtype=np.float32).reshape(8, 8, 4)


def test_good_mr_and_ct_volumes_pass_every_gate(tmp_path: Path) -> None:
    assert _failed(tmp_path, _mr(), ImageKind.MR) == set()
    assert _failed(tmp_path, _ct(), ImageKind.CT) == set()


@pytest.mark.parametrize(
    ("array", "kind", "gate"),
    [
        (np.full((8, 8, 4), 5, np.int16), ImageKind.MR, "images_nonconstant"),
        (_mr() - 10, ImageKind.MR, "intensity_plausible"),
        (np.where(_ct() > 0, np.nan, _ct()).astype(np.float32), ImageKind.CT, "images_finite"),
        (np.clip(_ct(), -400, 1000), ImageKind.CT, "intensity_plausible"),
        (np.zeros((8, 8, 5), np.int16) + _mr()[:, :, :1], ImageKind.MR, "geometry_matches_request"),
    ],
    ids=["constant", "negative-mr", "non-finite", "no-air-ct", "wrong-shape"],
)
def test_each_image_gate_fires(tmp_path: Path, array: np.ndarray, kind: ImageKind, gate: str) -> None:
    assert gate in _failed(tmp_path, array, kind)


def test_upstream_exit_and_missing_images_fail(tmp_path: Path) -> None:
    assert "upstream_exit_zero" in _failed(tmp_path, _mr(), ImageKind.MR, exit_code=1)
    output = summarize_images(tmp_path, [], kind=ImageKind.MR)
    assert not output.all_images_readable and not output.all_images_nonnegative
    failed = {g.gate for g in evaluate_image_gates(_invocation(), output) if g.status is Status.FAILED}
    assert {"images_written", "images_readable"} <= failed


def test_exit_zero_with_a_traceback_fails(tmp_path: Path) -> None:
    from medskills.core.models import LogTails

    image = inspect_image(_volume(tmp_path, _mr()), kind=ImageKind.MR)
    output = summarize_images(tmp_path, [image], kind=ImageKind.MR)
    invocation = _invocation().model_copy(update={"logs": LogTails(
        stderr_tail="Traceback (most recent call last):\n  File ...\nRuntimeError: boom")})
    gate = evaluate_image_gates(invocation, output)[0]
    assert gate.gate == "upstream_exit_zero" and gate.status is Status.FAILED and "traceback" in gate.message


def test_image_gates_are_the_gate_enum_in_order(tmp_path: Path) -> None:
    image = inspect_image(_volume(tmp_path, _ct()), kind=ImageKind.CT, requested_shape=(8, 8, 4),
                          requested_spacing_mm=SPACING)
    gates = evaluate_image_gates(_invocation(), summarize_images(tmp_path, [image], kind=ImageKind.CT))
    assert [gate.gate for gate in gates] == [gate.value for gate in ImageGate]


def test_geometry_gate_passes_when_the_grid_comes_from_a_mask(tmp_path: Path) -> None:
    image = inspect_image(_volume(tmp_path, _ct()), kind=ImageKind.CT, requested_shape=(16, 16, 16),
                          requested_spacing_mm=SPACING)
    output = summarize_images(tmp_path, [image], kind=ImageKind.CT)
    by_gate = {gate.gate: gate.status for gate in evaluate_image_gates(_invocation(), output)}
    assert by_gate[ImageGate.GEOMETRY_MATCHES_REQUEST] is Status.FAILED
    from_mask = evaluate_image_gates(_invocation(), output, is_geometry_requested=False)
    assert {gate.gate: gate.status for gate in from_mask}[ImageGate.GEOMETRY_MATCHES_REQUEST] is Status.PASSED
