"""medskills: 3D medical imaging AI toolkit (synthesis, segmentation, verification, chest-CT triage).

Nothing in this package is for clinical use.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
