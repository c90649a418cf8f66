"""The CT summary card opens in headless Chromium and shows the triptych (skipped without Chromium)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "card_screenshot.py"


def _script():
    spec = importlib.util.spec_from_file_location("card_screenshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_card_renders_in_headless_chromium(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch):
    script = _script()
    if script.find_browser() is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    monkeypatch.setenv("MEDSKILLS_SHARED_DATA", str(shared_data))
    card = script.card_from_standin(tmp_path / "work")
    html = card.read_text()
    assert html.count("data:image/png;base64,") >= 1 and "Not for clinical use" in html
    png = script.screenshot(card, tmp_path / "shot.png", width=1000, height=900)
    assert png.stat().st_size > 20_000
    assert script.distinct_colours(png) > 200  # greyscale CT + overlay colours, not a blank page
