"""The generated-image card: a triptych of the first readable image and the request and gate tables."""

from __future__ import annotations

from pathlib import Path

from medskills.core.models import Status
from medskills.synthesis.nv_generate.image_card import write_image_card
from medskills.synthesis.nv_generate.image_evidence import ImageKind, inspect_image, summarize_images
from unit.synthesis.nv_generate.image_files import mr_array, write_volume


def test_card_shows_a_triptych(tmp_path: Path) -> None:
    image = inspect_image(write_volume(tmp_path, mr_array()), kind=ImageKind.MR)
    output = summarize_images(tmp_path, [image], kind=ImageKind.MR)
    path, error = write_image_card(tmp_path, title="t", subtitle="s", status=Status.PASSED, output=output,
                                   request_rows=[["a", "b"]], gates=[])
    assert error is None and "data:image/png;base64" in path.read_text()
