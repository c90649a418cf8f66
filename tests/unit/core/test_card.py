from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np

from medskills.core.card import CardPanel, CardTable, write_card
from medskills.core.models import DISCLAIMER
from medskills.core.volumes import read_volume


def test_card_embeds_a_png_triptych_with_overlay_tables_and_disclaimer(shared_data: Path, tmp_path: Path) -> None:
    image = read_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    label = read_volume(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    path, error = write_card(
        tmp_path / "summary.html", title="CT", subtitle="test", status="passed",
        panels=[CardPanel(title="sample 1", image=image.array, affine=image.affine, label=label.array,
                          window=(-200, 250))],
        tables=[CardTable(title="Labels", header=["id", "mL"], rows=[["5", "1200.0"]])],
    )
    assert error is None and path is not None
    html = path.read_text()
    assert DISCLAIMER in html and "<td>1200.0</td>" in html
    payload = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert payload is not None
    assert base64.b64decode(payload.group(1))[:8] == b"\x89PNG\r\n\x1a\n"


def test_card_records_a_broken_panel_instead_of_failing(tmp_path: Path) -> None:
    path, error = write_card(
        tmp_path / "summary.html", title="CT", subtitle="x", status="failed",
        panels=[CardPanel(title="bad", image=np.zeros((2, 2)), affine=np.eye(4))], tables=[],
    )
    assert error is None and path is not None
    assert "Image not rendered" in path.read_text()


def test_write_card_returns_an_error_when_the_file_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path, error = write_card(blocker / "summary.html", title="t", subtitle="s", status="passed", panels=[], tables=[])
    assert path is None and error is not None


def test_axial_index_picks_the_shown_axial_slice_instead_of_the_centre() -> None:
    from medskills.core.card import render_triptych_png

    volume = np.zeros((8, 8, 9), dtype=np.float32)
    volume[:, :, 1] = 100.0  # only slice 1 is bright; the centre (4) is dark
    affine = np.eye(4)
    centre = CardPanel(title="centre", image=volume, affine=affine, window=(0.0, 100.0))
    chosen = CardPanel(title="slice 1", image=volume, affine=affine, window=(0.0, 100.0), axial_index=1)
    assert render_triptych_png(chosen) != render_triptych_png(centre)
