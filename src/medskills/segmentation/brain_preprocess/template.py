"""The MNI ICBM152 2009a symmetric T1 template, read from the file nilearn ships (no network).

``nilearn.datasets.load_mni152_template(resolution=1)`` returns this file scaled to [0, 1]; importing
nilearn costs seconds, so the same file is read here directly, checked by sha256, and scaled the same
way (``tests/unit/segmentation/brain_preprocess/test_template.py`` pins the equality).
Upstream names the ICBM152 2009c asymmetric or the LUMIR template, neither of which ships offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.errors import EnvironmentProblem
from medskills.pretrained import PackagedWeights, locate_packaged_weights
from medskills.segmentation.brain_preprocess.models import TemplateIdentity

__all__ = ["MNI152_TEMPLATE", "LoadedTemplate", "load_template"]

MNI152_TEMPLATE = PackagedWeights(
    distribution="nilearn",
    version=None,  # the file has not changed across releases; its sha256 is what is pinned
    relative_path="nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    sha256="421a10e872fd6cadae7f61d358dffbcc1795a497d61ee76c5dda2503e1a1e9e6",
    install_command="pip install 'medskills[brain]'",
)
TEMPLATE_NAME = "MNI ICBM152 2009a nonlinear symmetric T1, 1 mm, brain-extracted (nilearn)"


@dataclass(frozen=True)
class LoadedTemplate:
    """The template image in [0, 1] (float32, RAS voxel order as stored) and its identity."""

    array: npt.NDArray[np.float32]
    affine: npt.NDArray[np.float64]
    identity: TemplateIdentity


def _installed_version() -> str:
    from importlib import metadata

    return metadata.version(MNI152_TEMPLATE.distribution)


def load_template() -> LoadedTemplate:
    """Read and identify the template.

    Raises:
        EnvironmentProblem: nilearn is missing or another version, or the file differs.
    """
    from medskills.core.io import sha256_file
    from medskills.core.volumes import read_volume

    path = locate_packaged_weights(MNI152_TEMPLATE)
    image = read_volume(path)
    array = np.asarray(image.array, dtype=np.float32)
    peak = float(array.max())
    if not peak > 0:
        raise EnvironmentProblem(f"{path} is empty. Reinstall: {MNI152_TEMPLATE.install_command}")
    affine = image.affine
    identity = TemplateIdentity(
        name=TEMPLATE_NAME, source_package=MNI152_TEMPLATE.distribution, source_version=_installed_version(),
        file_path=Path(path), sha256=sha256_file(Path(path)), shape=(array.shape[0], array.shape[1], array.shape[2]),
        affine=[[float(v) for v in row] for row in affine])
    return LoadedTemplate(array=array / np.float32(peak), affine=affine, identity=identity)
