"""The template read from nilearn's own file equals nilearn's documented loader, offline."""

from __future__ import annotations

import numpy as np

from pretrained_support import needs_brain_extra

from medskills.segmentation.brain_preprocess.template import load_template

pytestmark = needs_brain_extra


def test_template_equals_nilearn_load_mni152_template() -> None:
    from nilearn.datasets import load_mni152_template

    ours = load_template()
    theirs = load_mni152_template(resolution=1)
    assert ours.array.shape == theirs.shape == (197, 233, 189)
    assert np.allclose(ours.affine, theirs.affine)
    assert np.array_equal(ours.array, np.asarray(theirs.get_fdata(), dtype=np.float32))
    assert ours.identity.sha256 == "421a10e872fd6cadae7f61d358dffbcc1795a497d61ee76c5dda2503e1a1e9e6"
    assert ours.identity.source_package == "nilearn" and ours.identity.source_version
