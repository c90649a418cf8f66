"""Every card kind opens in headless Chromium and shows what it should (the browser is required in CI).

Kinds: the paired CT run card (stand-in run), the label-overlay card segmentation writes, the image-only
card, and the plan card of a preflight-only run. ``.ci/run`` installs Debian's chromium and sets
``MEDSKILLS_REQUIRE_BROWSER=1``, so there a missing browser fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from medskills.cli import app
from medskills.core.card import CardPanel, write_card
from medskills.core.volumes import read_volume

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "card_screenshot.py"


@pytest.fixture(scope="module")
def browser() -> ModuleType:
    spec = importlib.util.spec_from_file_location("card_screenshot", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.find_browser() is None:
        if os.environ.get("MEDSKILLS_REQUIRE_BROWSER") == "1":
            pytest.fail("MEDSKILLS_REQUIRE_BROWSER=1 but no Chromium: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return module


def _shot(browser: ModuleType, card: Path, tmp_path: Path) -> int:
    png = browser.screenshot(card, tmp_path / f"{card.parent.name}.png", width=1000, height=900)
    assert png.stat().st_size > 10_000
    return int(browser.distinct_colours(png))


@pytest.mark.slow
def test_paired_ct_card_renders_the_triptych_with_legend_and_window(
    browser: ModuleType, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDSKILLS_SHARED_DATA", str(shared_data))
    card = browser.card_from_standin(tmp_path / "work")
    html = card.read_text()
    assert html.count("data:image/png;base64,") >= 1 and "Not for clinical use" in html
    assert "display window: -200 to 250 HU" in html and 'class="swatch"' in html and "liver" in html
    assert _shot(browser, card, tmp_path) > 200  # greyscale CT + overlay colours, not a blank page


@pytest.mark.slow
def test_label_overlay_card_shows_each_present_label_in_the_legend(
    browser: ModuleType, tmp_path: Path, shared_data: Path,
) -> None:
    scan = shared_data / "ct_abdomen_3mm"
    image, labels = read_volume(scan / "image.nii.gz"), read_volume(scan / "reference_totalsegmentator.nii.gz")
    panel = CardPanel(title="input with labels", image=image.array, affine=image.affine, label=labels.array,
                      window=(-200.0, 250.0), label_names={5: "liver"})
    card, error = write_card(tmp_path / "seg" / "summary.html", title="segmentation", subtitle="test", status="passed",
                             panels=[panel], tables=[])
    assert card is not None, error
    html = card.read_text()
    present = {int(v) for v in set(labels.array.ravel().tolist())} - {0}
    assert html.count('class="swatch"') == len(present) and "<td>liver</td>" in html
    assert "radiological view" in html
    assert _shot(browser, card, tmp_path) > 200


@pytest.mark.slow
def test_image_only_card_says_its_window(browser: ModuleType, tmp_path: Path, shared_data: Path) -> None:
    image = read_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    panel = CardPanel(title="sample", image=image.array, affine=image.affine)
    card, error = write_card(tmp_path / "image" / "summary.html", title="image only", subtitle="test",
                             status="passed", panels=[panel], tables=[])
    assert card is not None, error
    assert "1st-99th percentile" in card.read_text() and 'class="swatch"' not in card.read_text()
    assert _shot(browser, card, tmp_path) > 50


def test_plan_card_of_a_preflight_only_run_lists_checks_fixes_and_cost(browser: ModuleType, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "ct", "default", "--output-dir", str(tmp_path / "plan"),
                                      "--preflight-only"])
    assert result.exit_code == 0
    card = tmp_path / "plan" / "summary.html"
    html = card.read_text()
    for text in ("Checks", "fix", "Cost estimate", "Expected label mapping", "Request", "blocked"):
        assert text in html, text
    assert _shot(browser, card, tmp_path) > 10  # text and coloured status badges on white
