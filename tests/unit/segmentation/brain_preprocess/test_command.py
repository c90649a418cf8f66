"""``preprocess brain`` preflight: every problem is collected before any work, and the output folder is
never written into when it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.errors import PreflightError
from medskills.segmentation.brain_preprocess import BrainPreprocessRequest, preprocess_brain


def test_a_missing_image_and_a_used_output_folder_are_reported_together(tmp_path: Path) -> None:
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    (output_dir / "mine.txt").write_text("keep")
    request = BrainPreprocessRequest(image_path=tmp_path / "absent_t1.nii.gz", output_dir=output_dir)
    with pytest.raises(PreflightError) as caught:
        preprocess_brain(request)
    codes = [problem.split(":", 1)[0] for problem in caught.value.problems]
    assert codes[:2] == ["input_unreadable", "output_dir_not_empty"]
    assert "absent_t1.nii.gz" in caught.value.problems[0]
    assert [p.name for p in output_dir.iterdir()] == ["mine.txt"]
