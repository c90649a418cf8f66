"""Packaged weight files: found in the installed distribution, pinned by version and sha256."""

from __future__ import annotations

import dataclasses

import pytest

from medskills.core.errors import EnvironmentProblem
from pretrained_support import needs_deepbrain

from medskills.pretrained import DEEPBRAIN_WEIGHTS, locate_packaged_weights

pytestmark = needs_deepbrain


def test_locate_returns_the_installed_file_when_its_sha256_matches() -> None:
    path = locate_packaged_weights(DEEPBRAIN_WEIGHTS)
    assert path.name == "graph.pb" and path.stat().st_size == 1_139_007


def test_locate_refuses_a_file_whose_sha256_differs() -> None:
    altered = dataclasses.replace(DEEPBRAIN_WEIGHTS, sha256="0" * 64)
    with pytest.raises(EnvironmentProblem, match="expected 0{64}.*--force-reinstall"):
        locate_packaged_weights(altered)


def test_locate_names_the_install_command_when_the_distribution_is_missing() -> None:
    missing = dataclasses.replace(DEEPBRAIN_WEIGHTS, distribution="no-such-weights-package")
    with pytest.raises(EnvironmentProblem, match="not installed.*pip install --no-deps deepbrain==0.1"):
        locate_packaged_weights(missing)


def test_locate_refuses_another_version_of_the_distribution() -> None:
    with pytest.raises(EnvironmentProblem, match="0.1 is installed; the pinned weights are from 9.9"):
        locate_packaged_weights(dataclasses.replace(DEEPBRAIN_WEIGHTS, version="9.9"))


def test_locate_reports_a_file_missing_from_the_distribution() -> None:
    with pytest.raises(EnvironmentProblem, match="missing from the installed deepbrain"):
        locate_packaged_weights(dataclasses.replace(DEEPBRAIN_WEIGHTS, relative_path="deepbrain/models/none.pb"))
