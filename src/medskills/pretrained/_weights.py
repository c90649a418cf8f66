"""Find a weight file shipped inside an installed Python distribution and check its sha256."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from medskills.core.errors import EnvironmentProblem
from medskills.core.io import sha256_file

__all__ = ["PackagedWeights", "locate_packaged_weights"]


@dataclass(frozen=True)
class PackagedWeights:
    """Where a weight file comes from: the distribution, the file inside it and its expected sha256.

    ``version`` None accepts any installed version; the sha256 still has to match.
    """

    distribution: str
    version: str | None
    relative_path: str
    sha256: str
    install_command: str


def locate_packaged_weights(spec: PackagedWeights) -> Path:
    """Return the path of ``spec``'s file after checking the installed version and the file's sha256.

    Nothing is downloaded: the file must already be installed by ``spec.install_command``.

    Raises:
        EnvironmentProblem: the distribution is missing or another version, the file is absent, or
            its sha256 differs from the pinned one.
    """
    fix = f"Install it with: {spec.install_command}"
    try:
        installed = metadata.distribution(spec.distribution)
    except metadata.PackageNotFoundError as err:
        raise EnvironmentProblem(f"the weights package {spec.distribution!r} is not installed. {fix}") from err
    if spec.version is not None and installed.version != spec.version:
        raise EnvironmentProblem(
            f"{spec.distribution} {installed.version} is installed; the pinned weights are from {spec.version}. {fix}")
    path = Path(str(installed.locate_file(spec.relative_path)))
    if not path.is_file():
        raise EnvironmentProblem(f"{path} is missing from the installed {spec.distribution} {spec.version}. {fix}")
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise EnvironmentProblem(
            f"{path} has sha256 {digest}, expected {spec.sha256}: the weights were altered or replaced. "
            f"Reinstall: {spec.install_command} --force-reinstall")
    return path
