"""``medskills setup``: clone the upstream, fetch weights and datasets, lay them out, say what to export."""

from __future__ import annotations

import logging
import os

from medskills.core.assets import SkillAssets, skill_assets
from medskills.core.errors import EnvironmentProblem, UsageError
from medskills.core.settings import Settings
from medskills.setup.clone import ensure_clone
from medskills.setup.download import (
    FreeBytes,
    HubAccess,
    ProgressBarFactory,
    download_asset,
    free_bytes_at,
    require_free_space,
)
from medskills.setup.layout import SetupLayout, extract_archive, missing_bytes_estimate
from medskills.setup.models import FileAction, FileOutcome, SetupReport, SetupRequest

__all__ = ["CONFIRM_ABOVE_BYTES", "run_setup"]

logger = logging.getLogger(__name__)

CONFIRM_ABOVE_BYTES = 5 * 10**9
_TRUTHY = {"1", "true", "yes", "on"}


def run_setup(
    request: SetupRequest,
    *,
    settings: Settings,
    free_bytes: FreeBytes = free_bytes_at,
    assets: SkillAssets | None = None,
    progress_bar: ProgressBarFactory | None = None,
) -> SetupReport:
    """Do everything missing for ``request`` and nothing else; safe to re-run after any failure.

    ``assets`` replaces the packaged manifest entry (tests point it at a local git repo and hub);
    ``progress_bar`` is passed to each transfer (see ``download_asset``).
    """
    entry = assets or skill_assets(request.skill)
    version = entry.version(request.version)
    if request.hub_revision is not None:
        logger.warning("Using hub revision %s instead of the pinned revisions", request.hub_revision)
        files = [f.model_copy(update={"revision": request.hub_revision}) for f in version.files]
        version = version.model_copy(update={"files": files})
    layout = SetupLayout.plan(entry, version, root=request.root, data_root=request.data_root)
    needed = missing_bytes_estimate(layout)
    if needed:
        _refuse_offline_mode(layout)
        require_free_space(layout.clone_dir, needed, free_bytes=free_bytes, what=f"{entry.skill.value} {version.version}")
    clone = ensure_clone(layout.clone_dir, url=entry.upstream.url, pinned_commit=version.upstream_commit)
    if needed > CONFIRM_ABOVE_BYTES and not request.is_confirmed:
        raise UsageError(f"Setup of {entry.skill.value} {version.version} will write about {needed / 1e9:.1f} GB "
                         f"under {layout.clone_dir}. Re-run with --yes to proceed.")
    access = HubAccess.from_environment(request.token_env)
    outcomes: list[FileOutcome] = []
    for asset in version.files:  # archives too: upstream's download_model_data checks the zip on every run
        outcome = download_asset(asset, layout.destination(asset), access=access, free_bytes=free_bytes,
                                 hash_cache=settings.weight_hash_cache, progress_bar=progress_bar)
        outcomes.append(outcome)
        if asset.is_archive:
            outcomes.append(extract_archive(asset, layout.destination(asset), layout.runtime_path(asset),
                                            free_bytes=free_bytes))
    downloaded = sum(o.bytes or 0 for o in outcomes if o.action == FileAction.DOWNLOADED)
    if downloaded == 0:
        logger.info("Everything for %s %s was already in place; nothing downloaded.", entry.skill.value,
                    version.version)
    return SetupReport(skill=entry.skill, version=version.version, clone=clone, runtime_root=layout.runtime_root,
                       data_root=layout.data_root, files=outcomes, downloaded_bytes=downloaded,
                       exports=layout.exports())


def _refuse_offline_mode(layout: SetupLayout) -> None:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY:
        raise EnvironmentProblem(
            f"HF_HUB_OFFLINE is set, but files for {layout.assets.skill.value} {layout.version.version} are missing "
            f"under {layout.clone_dir}. Run setup with it unset (env -u HF_HUB_OFFLINE medskills setup ...); keep it "
            f"set for skill runs."
        )
