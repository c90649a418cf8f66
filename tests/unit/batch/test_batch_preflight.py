"""The batch's cost total, which the --yes gate reads."""

from __future__ import annotations

from medskills.batch.preflight import BATCH_CONFIRM_SECONDS, JobPreflight, total_cost


def test_total_above_the_single_run_limit_needs_confirmation_even_when_each_job_is_small():
    jobs = [JobPreflight(name=f"ct-{seed}", is_ready=True, wall_seconds=28.0, peak_vram_gb=15.0) for seed in range(11)]
    cost = total_cost(jobs)
    assert cost.wall_seconds == 308.0 > BATCH_CONFIRM_SECONDS and cost.needs_confirmation
    assert not total_cost(jobs[:10]).needs_confirmation


def test_one_job_above_its_own_limits_names_itself():
    cost = total_cost([JobPreflight(name="big", is_ready=True, wall_seconds=10.0, needs_confirmation=True)])
    assert cost.needs_confirmation and cost.confirmations == ("big",)
