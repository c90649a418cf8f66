"""Each CT gate passes on good outputs and fails on its own bad case."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from medskills.core.models import Invocation, Status
from medskills.core.volumes import GeometryComparison
from medskills.synthesis.paired_ct.gates import CT_GATES, CTGateContext, PairedCTGate
from medskills.synthesis.paired_ct.record import CTOutputSection, SampleEvidence

GOOD_GEOMETRY = GeometryComparison(is_shape_match=True, is_spacing_match=True, affine_max_abs_diff=0.0,
                                   is_affine_match=True)


def _invocation(exit_code: int = 0, *, is_timed_out: bool = False) -> Invocation:
    return Invocation(argv=["x"], cwd=Path("/"), exit_code=exit_code, is_timed_out=is_timed_out, timeout_seconds=5,
                      runtime_seconds=1, started_at=datetime.now(timezone.utc))


def _sample(**changes: object) -> SampleEvidence:
    values = dict(image_path=Path("i.nii"), label_path=Path("l.nii"), is_image_readable=True, is_label_readable=True,
                  geometry_match=GOOD_GEOMETRY, has_hu_below_minus_500=True, has_hu_above_200=True,
                  is_nonconstant=True, label_ids_present=[1, 2], label_foreground_voxels=10)
    return SampleEvidence(**{**values, **changes})


def _output(samples: list[SampleEvidence], missing: list[int] | None = None) -> CTOutputSection:
    return CTOutputSection(
        directory=Path("."), samples=samples, num_samples=len(samples),
        is_all_pairs_readable=all(s.is_pair_readable for s in samples),
        is_all_geometry_consistent=all(s.geometry_match is not None and s.geometry_match.is_match for s in samples),
        has_any_foreground=True, is_all_images_nonconstant=all(s.is_nonconstant for s in samples),
        is_all_images_hu_like=all(s.has_hu_below_minus_500 and s.has_hu_above_200 for s in samples),
        union_label_ids_present=[1, 2], output_label_mapping=[], expected_output_label_ids=[1, 2],
        expected_maisi_label_ids=[1, 23], missing_expected_output_label_ids=missing or [],
        is_all_expected_labels_present=not missing, mask_path="B", staged_inference_config=Path("a"),
        staged_environment_config=Path("b"))


def _failed(invocation: Invocation, output: CTOutputSection, requested: int = 1) -> set[str]:
    results = CT_GATES.evaluate(CTGateContext(invocation=invocation, output=output, expected_samples=requested))
    return {r.gate for r in results if r.status == Status.FAILED}


def test_all_gates_pass_on_good_outputs():
    assert _failed(_invocation(), _output([_sample()])) == set()


@pytest.mark.parametrize("invocation, output, requested, gate", [
    (_invocation(1), _output([_sample()]), 1, "upstream_exit_zero"),
    (_invocation(124, is_timed_out=True), _output([_sample()]), 1, "upstream_exit_zero"),
    (_invocation(), _output([_sample()]), 2, "outputs_exist"),
    (_invocation(), _output([_sample(is_label_readable=False)]), 1, "outputs_exist"),
    (_invocation(), _output([_sample(is_nonconstant=False)]), 1, "images_nonconstant"),
    (_invocation(), _output([_sample(has_hu_above_200=False)]), 1, "images_hu_like"),
    (_invocation(), _output([_sample()], missing=[2]), 1, "expected_labels_present"),
    (_invocation(), _output([_sample(geometry_match=GOOD_GEOMETRY.model_copy(update={"is_affine_match": False}))]), 1,
     "geometry_consistent"),
])
def test_each_gate_fails_on_its_bad_case(invocation, output, requested, gate):
    assert gate in _failed(invocation, output, requested)


def test_paired_ct_gates_are_the_gate_enum_in_order():
    assert CT_GATES.names == list(PairedCTGate)
    gates = CT_GATES.evaluate(CTGateContext(invocation=_invocation(), output=_output([_sample()]), expected_samples=1))
    assert [gate.gate for gate in gates] == [gate.value for gate in PairedCTGate]
