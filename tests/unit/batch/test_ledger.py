"""The ledger survives a restart, and the lock keeps a second batch out of the folder."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from medskills.batch import BatchLocked, JobEntry, JobState
from medskills.batch.ledger import Ledger, hold_batch_lock


def test_ledger_is_persisted_on_every_change_and_reloaded(tmp_path):
    ledger = Ledger.open(tmp_path, tmp_path / "m.yaml")
    ledger.register(JobEntry(name="a", command=["synth", "ct"], argv=["r.json"]))
    ledger.mark("a", state=JobState.RUNNING, attempts=1)
    again = Ledger.open(tmp_path, tmp_path / "m.yaml")
    entry = again.entry("a")
    assert entry is not None and entry.state is JobState.RUNNING and entry.attempts == 1


def test_only_unfinished_and_infrastructure_states_are_run_again_on_resume():
    again = {state for state in JobState if state.is_retried_on_resume}
    assert again == {JobState.PENDING, JobState.RUNNING, JobState.INFRASTRUCTURE, JobState.INTERRUPTED}


def test_a_second_batch_is_refused_while_the_first_holds_the_folder(tmp_path):
    code = (f"from pathlib import Path; from medskills.batch.ledger import hold_batch_lock; import time\n"
            f"with hold_batch_lock(Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(BatchLocked, match="in use by another batch .pid") as caught, hold_batch_lock(tmp_path):
            pass
        assert "different --output-dir" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the kernel releases the lock with the dead holder: no stale lock
        try:
            with hold_batch_lock(tmp_path):
                break
        except BatchLocked:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_an_unreadable_ledger_is_a_usage_error_naming_the_file_and_the_ways_out(tmp_path):
    from medskills.batch.ledger import LEDGER_FILE_NAME, Ledger
    from medskills.core.errors import UsageError

    (tmp_path / LEDGER_FILE_NAME).write_text("{half a ledger")
    with pytest.raises(UsageError) as caught:
        Ledger.open(tmp_path, tmp_path / "batch.yaml")
    message = str(caught.value)
    assert str(tmp_path / LEDGER_FILE_NAME) in message and "cannot be read" in message
    assert "move it aside" in message and "--output-dir" in message
    assert (tmp_path / LEDGER_FILE_NAME).read_text() == "{half a ledger"
