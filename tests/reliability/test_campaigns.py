"""The short seeded version of every reliability and security campaign (tests/reliability/campaign.py)."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.testing.faults import RequestRecord
from tests.reliability import support
from tests.reliability.campaign import CAMPAIGNS, Result, markdown, run_campaign, table

SEED = 20261126
IN_AIRFLOW = {"crashes", "kills"}  # these run their DAGs in the suite's Airflow stack instead of starting one
# Kill deadlines and Airflow's own timeouts in the suite's stack want the machine to themselves: these run in the
# suite's serial pass. The faults campaign (dag.test() in the test process) runs with the parallel tests: its
# timing invariants are bounds that load cannot break (a retry waits at least the Retry-After, at most the 30 s
# backoff cap), and it holds them under -n 2 next to spark-submit's JVMs.
SERIAL = IN_AIRFLOW


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.serial] if n in SERIAL else [])
                                  for n in CAMPAIGNS])
def test_campaign_holds_every_invariant(name: str, request: pytest.FixtureRequest) -> None:
    running = ({"stack": request.getfixturevalue("airflow_stack"), "kube": request.getfixturevalue("e2e_kube")}
               if name in IN_AIRFLOW else {})
    result = run_campaign(name, "short", SEED, **running)
    assert not result.error, f"the {name} campaign crashed:\n{result.error}"
    assert result.trials > 0, f"the {name} campaign ran no trial"
    assert result.violations == [], f"{len(result.violations)} violation(s) in {result.trials} trials"


def test_the_report_has_the_table_every_violation_and_the_findings() -> None:
    results = [Result("kills", trials=4, violations=["trial 2 (seed 7): workflow still Running 9.1 s after the kill"],
                      figures={"kill-to-gone s": "p50 1.2"}, seconds=61),
               Result("faults", trials=10, error="Traceback ...\nRuntimeError: boom")]
    report = table(results)
    text = markdown(results, report, ["- kills: trial 2 (seed 7): workflow still Running 9.1 s after the kill"],
                    "python -m tests.reliability.campaign --full", "full", 7, 120)
    assert "| kills | 4 | 1 | kill-to-gone s: p50 1.2 | 61 |" in text
    assert "| faults | 10 | CRASHED | - | 0 |" in text
    assert "- kills: trial 2 (seed 7): workflow still Running 9.1 s after the kill" in text
    assert "`python -m tests.reliability.campaign --full` (full size, seed 7)" in text
    assert "### kills" in text and "## Known limits" in text  # each campaign's description, then the findings


def test_the_retry_of_a_429_is_the_same_request_after_its_retry_after() -> None:
    def get(started: float, status: int) -> RequestRecord:
        return RequestRecord("GET", "/api/v1/namespaces/ns/pods/p", "", status, started, 0.0, "get", "pods", "ns", "p")

    throttled = get(10.0, 429)
    # Another caller reads the pod 0.4 s later; the throttled call itself comes back after its Retry-After.
    [retry] = support.retries([throttled, get(10.4, 200), get(11.0, 200)], {id(throttled): 1.0})
    assert retry.delay == 1.0
    # A caller that comes back early, with nobody after it, is what the campaign flags.
    [early] = support.retries([throttled, get(10.4, 200)], {id(throttled): 1.0})
    assert early.delay is not None and round(early.delay, 2) == 0.4 and early.retry_after == 1.0
