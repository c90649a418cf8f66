"""The upload pipeline's privacy and refusal helpers: UIDs reach logs only hashed; no pack means 503."""

from __future__ import annotations

import hashlib

import pytest

from medskills.core.errors import StudyError
from medskills.triage.api.errors import ServiceErrorCode
from medskills.triage.api.pipeline import hashed_uid, unconfigured_loader
from medskills.triage.api.status import status_for


def test_a_uid_is_logged_as_a_short_one_way_hash() -> None:
    uid = "1.2.840.113619.2.55.3.604688119"
    assert hashed_uid(uid) == hashlib.sha256(uid.encode()).hexdigest()[:12]
    assert uid not in hashed_uid(uid) and hashed_uid(uid) != hashed_uid(uid + "1")


def test_without_a_predictor_a_usable_study_is_refused_with_503_and_the_variables() -> None:
    with pytest.raises(StudyError) as caught:
        unconfigured_loader(None)()
    assert caught.value.error_code is ServiceErrorCode.PREDICTOR_NOT_CONFIGURED
    assert status_for(ServiceErrorCode.PREDICTOR_NOT_CONFIGURED) == 503
    assert "no model pack is configured" in str(caught.value)
    assert "MEDSKILLS_PACK_DIR" in str(caught.value) and "MEDSKILLS_BUILTIN_PACK" in str(caught.value)


def test_the_refusal_says_why_the_configured_pack_did_not_load() -> None:
    reason = "model pack /packs/v3 failed to load: pack.json cannot be read"
    with pytest.raises(StudyError, match="the service has no model: model pack /packs/v3 failed to load: "
                                         "pack.json cannot be read. Fix MEDSKILLS_PACK_DIR"):
        unconfigured_loader(reason)()
