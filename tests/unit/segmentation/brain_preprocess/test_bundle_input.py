"""Readiness of --preprocess: a missing library or altered file is an environment error, never a crash."""

from __future__ import annotations

import dataclasses

import pytest

from medskills.core.preflight import PreflightCollector
from medskills.segmentation.brain_preprocess import bundle_input, template


def test_a_missing_library_is_reported_with_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_input, "REQUIRED_MODULES", ("numpy", "no_such_module_for_brain"))
    assert bundle_input.missing_modules() == ["no_such_module_for_brain"]
    collector = PreflightCollector()
    bundle_input.check_brain_preprocessing_ready(collector)
    report = collector.report()
    library = next(e for e in report.errors if e.code == "brain_preprocessing_library_missing")
    assert "no_such_module_for_brain" in library.message and library.fix == "pip install 'medskills[brain]'"
    assert not report.environment_ready and report.request_valid


def test_an_altered_template_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template, "MNI152_TEMPLATE", dataclasses.replace(template.MNI152_TEMPLATE, sha256="1" * 64,
                                                                          distribution="no-such-template-package"))
    collector = PreflightCollector()
    bundle_input.check_brain_preprocessing_ready(collector)
    files = [e for e in collector.report().errors if e.code == "brain_preprocessing_files_missing"]
    assert any("no-such-template-package" in e.message for e in files)
