"""The exact bundle command line, the window/timeout arithmetic and the bundle config reader."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from medskills.segmentation.bundle import (
    build_bundle_argv,
    estimate_timeout_seconds,
    expected_output_path,
    read_bundle_config,
    window_count,
)


def test_argv_always_passes_input_dict_modality_output_dir_and_device() -> None:
    argv = build_bundle_argv(image_path=Path("/data/ct.nii.gz"), label_prompt=[3, 14], modality="CT_BODY",
                             bundle_output_dir=Path("/out/bundle_output"), device="cuda:1",
                             logging_file=Path("/out/logs/bundle_logging.conf"))
    assert argv == [sys.executable, "-m", "monai.bundle", "run", "--config_file", "configs/inference.json",
                    "--logging_file", "/out/logs/bundle_logging.conf", "--input_dict", "{'image': '/data/ct.nii.gz', 'label_prompt': [3, 14]}",
                    "--modality", "CT_BODY", "--output_dir", "/out/bundle_output",
                    "--device", "$torch.device('cuda:1')"]


def test_everything_mode_sends_no_label_prompt() -> None:
    argv = build_bundle_argv(image_path=Path("/d/x.nii"), label_prompt=None, modality="MRI_BODY",
                             bundle_output_dir=Path("/o"), device="cpu", logging_file=Path("/o/l.conf"))
    assert argv[argv.index("--input_dict") + 1] == "{'image': '/d/x.nii'}"


def test_expected_output_follows_the_saver_naming() -> None:
    assert expected_output_path(Path("/o"), Path("/d/case_1.nii.gz")) == Path("/o/case_1/case_1_trans.nii.gz")
    assert expected_output_path(Path("/o"), Path("/d/scan.nii")) == Path("/o/scan/scan_trans.nii.gz")


@pytest.mark.parametrize(("shape", "windows"), [
    ((192, 192, 128), 1), ((266, 266, 333), 16), ((239, 239, 300), 12), ((335, 335, 1000), 44),
])
def test_window_count_matches_the_spec_table(shape: tuple[int, int, int], windows: int) -> None:
    assert window_count(shape, (192, 192, 128)) == windows


def test_timeout_grows_with_windows_and_has_a_floor() -> None:
    assert estimate_timeout_seconds(1, device_kind="cuda:0") == 300.0
    assert estimate_timeout_seconds(16, device_kind="cpu") == 120.0 + 3 * 16 * 90.0


def test_bundle_config_numbers_are_read_and_expressions_fall_back(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "inference.json").write_text('{"resample_spacing": [3, 3, 3], "patch_size": "$[1,2,3]"}')
    config = read_bundle_config(tmp_path)
    assert config.resample_spacing_mm == (3.0, 3.0, 3.0) and config.patch_size == (192, 192, 128)
