"""The short seeded version of every reliability and security campaign (tests/reliability/campaign.py)."""

from __future__ import annotations

import pytest

from tests.reliability.campaign import CAMPAIGNS, run_campaign

SEED = 20261126


@pytest.mark.parametrize("name", CAMPAIGNS)
def test_campaign_holds_every_invariant(name: str) -> None:
    result = run_campaign(name, "short", SEED)
    assert not result.error, f"the {name} campaign crashed:\n{result.error}"
    assert result.trials > 0, f"the {name} campaign ran no trial"
    assert result.violations == [], f"{len(result.violations)} violation(s) in {result.trials} trials"
