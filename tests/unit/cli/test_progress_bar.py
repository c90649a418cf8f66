"""The progress bar of in-process work (cli/_progress.py): on stderr only, so stdout keeps its one JSON record."""

from __future__ import annotations

import pytest

from medskills.cli._progress import with_progress


def test_progress_goes_to_stderr_and_the_result_is_returned(capsys: pytest.CaptureFixture[str]) -> None:
    def action(on_progress):  # type: ignore[no-untyped-def]
        for done in (1, 2, 3):
            on_progress(done, 3)
        return {"studies": 3}

    assert with_progress(action) == {"studies": 3}
    captured = capsys.readouterr()
    assert captured.out == "" and "3/3" in captured.err


def test_an_error_in_the_action_propagates(capsys: pytest.CaptureFixture[str]) -> None:
    def action(on_progress):  # type: ignore[no-untyped-def]
        on_progress(1, 2)
        raise RuntimeError("server gone")

    with pytest.raises(RuntimeError, match="server gone"):
        with_progress(action)
    assert capsys.readouterr().out == ""
