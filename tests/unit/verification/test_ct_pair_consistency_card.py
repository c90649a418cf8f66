"""The ct_pair_consistency_v1 card: outlines on each organ's worst slice (RAS, no second encoding) and the HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.card import label_colour_hex
from medskills.verification.ct_pair_consistency_card import (
    LABEL_OUTLINE, MODEL_OUTLINE, outline_worst_slices, write_consistency_card,
)
from medskills.verification.ct_pair_consistency_measure import (
    OrganAgreement, OrganLabel, RasPair, SampleAgreement, SliceSegmenter, measure_organs, to_ras_pair,
)
from unit.verification.pair_consistency_support import (
    SHAPE, TS_LIVER, TS_SPLEEN, BrightInBoxModel, add_organ, body_phantom, bright_in_box_model,
)

# File slices 2-5 on a grid stored upside down along z (depth 8): file slice k is RAS slice 7 - k.
UPSIDE_DOWN = np.diag([2.0, 2.0, -2.0, 1.0])
LIVER = (slice(28, 38), slice(17, 28))  # 10 x 11 voxels, off-centre in i and j so a mirrored outline shows
LIVER_HOLE = (slice(31, 36), slice(20, 24))  # 20 voxels the label misses on file slice 4 only: Dice 0.9 there
SPLEEN = (slice(8, 14), slice(20, 26))
ORGANS = [OrganLabel("liver", (TS_LIVER,)), OrganLabel("spleen", (TS_SPLEEN,))]


@pytest.fixture
def model(tmp_path: Path) -> BrightInBoxModel:
    return bright_in_box_model(tmp_path)


def _measured_pair(model: BrightInBoxModel, *, spleen_slices: slice | None = slice(2, 6)
                   ) -> tuple[RasPair, list[OrganLabel], list[OrganAgreement], SliceSegmenter]:
    """Liver (worst on file slice 4) and, unless None, spleen: the organs measured on every slice they cover."""
    image, labels = body_phantom(), np.zeros(SHAPE, dtype=np.uint8)
    add_organ(image, labels, TS_LIVER, (*LIVER, slice(2, 6)))
    labels[(*LIVER_HOLE, slice(4, 5))] = 0
    if spleen_slices is not None:
        add_organ(image, labels, TS_SPLEEN, (*SPLEEN, spleen_slices))
    organs = ORGANS if spleen_slices is not None else ORGANS[:1]
    pair = to_ras_pair(image, labels, UPSIDE_DOWN)
    segmenter = SliceSegmenter(model, pair.image)
    return pair, organs, measure_organs(pair, organs, segmenter, slices_per_organ=4), segmenter


def _perimeter(rows: slice, columns: slice) -> set[tuple[int, int]]:
    """The border pixels of a filled rectangle (4-connected erosion removes the rest)."""
    return {(i, j) for i in range(rows.start, rows.stop) for j in range(columns.start, columns.stop)
            if i in (rows.start, rows.stop - 1) or j in (columns.start, columns.stop - 1)}


def _ring_around(hole: tuple[slice, slice]) -> set[tuple[int, int]]:
    """The pixels next to a rectangular hole (4-neighbours): the hole's edge of the label outline."""
    rows, columns = hole
    return ({(rows.start - 1, j) for j in range(columns.start, columns.stop)}
            | {(rows.stop, j) for j in range(columns.start, columns.stop)}
            | {(i, columns.start - 1) for i in range(rows.start, rows.stop)}
            | {(i, columns.stop) for i in range(rows.start, rows.stop)})


def _pixels(plane: np.ndarray, value: int) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in np.argwhere(plane == value)}


def test_outline_worst_slices_draws_both_outlines_on_the_worst_slice_in_ras_voxel_order(
        model: BrightInBoxModel) -> None:
    pair, organs, measured, segmenter = _measured_pair(model, spleen_slices=None)
    outlines, worst = outline_worst_slices(pair, organs, measured, segmenter)
    assert worst == {"liver": 3}, "file slice 4 is RAS slice 3"
    assert outlines.dtype == np.uint8 and outlines.shape == pair.labels.shape
    assert np.flatnonzero(outlines.any(axis=(0, 1))).tolist() == [3]
    plane = outlines[:, :, 3]
    assert _pixels(plane, MODEL_OUTLINE) == _perimeter(*LIVER), "LiteMedSAM saw the whole organ"
    assert _pixels(plane, LABEL_OUTLINE) == _ring_around(LIVER_HOLE), "the label's own edge, drawn under the model's"


def test_outline_worst_slices_decodes_again_without_a_second_encoding(model: BrightInBoxModel) -> None:
    pair, organs, measured, segmenter = _measured_pair(model)
    encoded = (model.encodings, segmenter.encoded_slices)
    outline_worst_slices(pair, organs, measured, segmenter)
    assert (model.encodings, segmenter.encoded_slices) == encoded


def test_outline_worst_slices_keeps_both_organs_when_their_worst_slices_coincide(model: BrightInBoxModel) -> None:
    pair, organs, measured, segmenter = _measured_pair(model, spleen_slices=slice(4, 5))
    outlines, worst = outline_worst_slices(pair, organs, measured, segmenter)
    assert worst == {"liver": 3, "spleen": 3}
    assert _perimeter(*SPLEEN) <= _pixels(outlines[:, :, 3], MODEL_OUTLINE)
    assert _perimeter(*LIVER) <= _pixels(outlines[:, :, 3], MODEL_OUTLINE)


def test_outline_worst_slices_of_no_organs_is_an_empty_volume(model: BrightInBoxModel) -> None:
    pair, _, _, segmenter = _measured_pair(model)
    outlines, worst = outline_worst_slices(pair, [], [], segmenter)
    assert worst == {} and not outlines.any()


def test_outlines_are_drawn_in_the_colours_the_card_caption_names() -> None:
    def rgb(label_id: int) -> tuple[int, int, int]:
        colour = label_colour_hex(label_id)
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

    red, green, blue = rgb(LABEL_OUTLINE)
    assert green > red and green > blue, "the caption calls the label's outline green"
    red, green, blue = rgb(MODEL_OUTLINE)
    assert red > green and red > blue, "the caption calls LiteMedSAM's outline red"


def test_write_consistency_card_shows_each_organs_worst_slice_and_the_dice_table(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    pair, organs, measured, segmenter = _measured_pair(model)
    outlines, worst = outline_worst_slices(pair, organs, measured, segmenter)
    sample = SampleAgreement(sample=0, image_path=tmp_path / "ct.nii.gz", label_path=tmp_path / "labels.nii.gz",
                             organs=measured, sides=[], slices_encoded=[2, 3, 4, 5])
    path, error = write_consistency_card(tmp_path / "card.html", status="failed",
                                        samples=[(sample, pair, outlines, worst)])
    assert error is None and path == tmp_path / "card.html"
    html = path.read_text(encoding="utf-8")
    assert "CT image/label consistency (ct_pair_consistency_v1)" in html and 'class="status failed"' in html
    assert "sample 0: liver, slice 4 (Dice 0.900)" in html and "sample 0: spleen, slice 2 (Dice 1.000)" in html
    assert html.count("data:image/png") == 2
    assert "<td>0</td><td>liver</td><td>0.977</td><td>2: 1.000, 3: 1.000, 4: 0.900, 5: 1.000</td>" in html


def test_write_consistency_card_of_a_sample_without_organs_has_no_panel_and_an_empty_table(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    pair, _, _, _ = _measured_pair(model)
    sample = SampleAgreement(sample=0, image_path=tmp_path / "ct.nii.gz", label_path=tmp_path / "labels.nii.gz",
                             organs=[], sides=[], slices_encoded=[])
    path, error = write_consistency_card(tmp_path / "card.html", status="failed",
                                        samples=[(sample, pair, np.zeros(SHAPE, dtype=np.uint8), {})])
    assert error is None and path is not None
    html = path.read_text(encoding="utf-8")
    assert "data:image/png" not in html and "Dice per organ (pooled, and per slice)" in html
    assert "<td>" not in html.split("Dice per organ")[1]


def test_write_consistency_card_returns_the_error_instead_of_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the card's folder should be")
    path, error = write_consistency_card(blocker / "card.html", status="passed", samples=[])
    assert path is None and error is not None and error.split(":")[0].endswith("Error")
