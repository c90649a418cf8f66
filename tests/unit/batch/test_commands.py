"""The batch's table of run commands matches the real command line, option by option."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command

from medskills.batch import RUN_COMMANDS, OutputStyle, RunCommand
from medskills.cli import app


def _options(command: RunCommand) -> set[str]:
    node = get_command(app)
    for word in command.words:
        node = node.commands[word]  # type: ignore[attr-defined]
    return {flag for parameter in node.params for flag in getattr(parameter, "opts", [])}


@pytest.mark.parametrize("command", RUN_COMMANDS, ids=lambda command: command.label)
def test_each_run_command_exists_and_accepts_what_the_batch_passes(command: RunCommand) -> None:
    options = _options(command)
    location = "--output-dir" if command.output_style is OutputStyle.OUTPUT_DIR else "--json"
    assert location in options
    assert ("--preflight-only" in options) == command.has_preflight_only
    if command.has_yes_gate:
        assert "--yes" in options
    if command.verifier is not None:
        verifier = next(c for c in RUN_COMMANDS if c.words == command.verifier)
        assert verifier.output_style is OutputStyle.JSON_FILE


def test_ct_from_mask_has_no_verifier_because_verify_ct_synthesis_refuses_its_runs(tmp_path: Path) -> None:
    import json

    from medskills.core.errors import InputError
    from medskills.verification.run_inputs import CTSynthesisRun, load_run

    (tmp_path / "result.json").write_text(json.dumps({"skill": "synth-ct", "mode": "ct-from-mask", "status": "passed",
                                                      "exit_code": 0, "output": {}}))
    with pytest.raises(InputError, match="ct-from-mask"):
        load_run(tmp_path, CTSynthesisRun)
    command = next(c for c in RUN_COMMANDS if c.words == ("synth", "ct-from-mask"))
    assert command.verifier is None
