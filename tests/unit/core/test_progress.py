"""Reading progress off upstream output lines: tqdm positions, files written, elapsed and ETA."""

from __future__ import annotations

from medskills.core.progress import UpstreamProgress


def test_a_tqdm_bar_gives_steps_done_of_total_and_an_estimate_left() -> None:
    progress = UpstreamProgress("inference", started_monotonic=0.0)
    progress.feed(" 0%|          | 0/30 [00:00<?, ?it/s]", now=0.0)
    progress.feed(" 40%|████      | 12/30 [00:12<00:18,  1.00it/s]", now=12.0)
    assert progress.describe(now=12.0) == "inference: 12/30 steps · 12 s elapsed, ~18 s left in this bar"


def test_a_labelled_bar_and_saved_files_are_named() -> None:
    progress = UpstreamProgress("diff_model_infer", started_monotonic=0.0)
    progress.feed("sliding windows: 50%|█████ | 4/8 [00:02<00:02]", now=2.0)
    progress.feed("INFO: saved /out/ct_image_seed0.nii.gz", now=3.0)
    text = progress.describe(now=3.0)
    assert "4/8 sliding windows" in text and "1 file(s) written" in text


def test_lines_without_progress_change_nothing_but_elapsed() -> None:
    progress = UpstreamProgress("bundle", started_monotonic=0.0)
    progress.feed("loading weights from models/model.pt", now=5.0)
    assert progress.describe(now=5.0) == "bundle: · 5 s elapsed"
