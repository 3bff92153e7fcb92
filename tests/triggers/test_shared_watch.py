"""The shared watch (watch.py): many waits in one event loop share one list + watch per (cluster, resource,
namespace, selector), against the emulator with the real kubernetes_asyncio client, including its failure paths.

pytest-asyncio is not a dependency, so each test runs its coroutine with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from kubernetes_asyncio import config as kconfig
from kubernetes_asyncio.client import ApiClient, Configuration

from airflow_provider_sparkk8s.kube_api import PODS, KubeAPI, KubeApiError, SharedKubeAPI
from airflow_provider_sparkk8s.testing.emulator import KubeEmulator
from airflow_provider_sparkk8s.watch import shared_collections, wait_for_object

NS = "default"


@pytest.fixture
def kube(kube_emulator_factory: Callable[..., KubeEmulator]) -> KubeEmulator:
    return kube_emulator_factory(simulate_pods=False, simulate_spark_submit=False, simulate_spark_operator=False,
                                 simulate_argo=False, argo_server=False)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def opener(kube: KubeEmulator, opened: list[int] | None = None) -> Callable[[], Any]:
    @asynccontextmanager
    async def open_api() -> AsyncIterator[KubeAPI]:
        configuration = Configuration()
        await kconfig.load_kube_config_from_dict(kube.kubeconfig(), client_configuration=configuration)
        if opened is not None:
            opened.append(1)
        async with ApiClient(configuration=configuration) as client:
            yield KubeAPI(client)

    return open_api


def pod(name: str, labels: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels or {}},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]}}


async def set_phase(api: KubeAPI, name: str, phase: str) -> None:
    await api.request("PATCH", PODS.path(NS, name, "status"), body={"status": {"phase": phase}},
                      content_type="application/merge-patch+json")


async def finish(name: str, kube: KubeEmulator) -> None:
    async with opener(kube)() as writer:
        await set_phase(writer, name, "Succeeded")


def phase_done(obj: dict | None) -> str | None:
    if obj is None:
        return "gone"
    phase = (obj.get("status") or {}).get("phase")
    return phase if phase in ("Succeeded", "Failed") else None


def counted(kube: KubeEmulator, verb: str) -> int:
    return sum(1 for r in kube.requests.snapshot() if r.verb == verb and r.resource == "pods")


async def wait_until(predicate: Callable[[], Any], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def test_many_waits_share_one_watch_and_each_gets_its_own_verdict(kube: KubeEmulator) -> None:
    kube.apply([pod(f"p{i}") for i in range(50)])

    async def main() -> None:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            waits = [asyncio.create_task(wait_for_object(api, PODS, NS, f"p{i}", phase_done)) for i in range(50)]
            await wait_until(lambda: kube.store.watcher_count == 1 and all(
                c.synced for c in shared_collections().values()))
            for i in range(50):
                await set_phase(writer, f"p{i}", "Succeeded" if i % 2 else "Failed")
            results = await asyncio.gather(*waits)
            assert [r.verdict for r in results] == ["Succeeded" if i % 2 else "Failed" for i in range(50)]
            assert results[3].object["metadata"]["name"] == "p3"
            await wait_until(lambda: kube.store.watcher_count == 0)
            assert shared_collections() == {}

    run(main())
    assert counted(kube, "watch") == 1 and counted(kube, "list") == 1
    assert counted(kube, "get") == 0


def test_many_waiters_on_one_object_all_get_the_verdict(kube: KubeEmulator) -> None:
    kube.apply(pod("one"))

    async def main() -> None:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            waits = [asyncio.create_task(wait_for_object(api, PODS, NS, "one", phase_done)) for _ in range(20)]
            await wait_until(lambda: kube.store.watcher_count == 1)
            await asyncio.sleep(0.1)
            await set_phase(writer, "one", "Succeeded")
            assert {r.verdict for r in await asyncio.gather(*waits)} == {"Succeeded"}

    run(main())


def test_a_waiter_leaving_keeps_the_others_and_the_last_one_closes_the_watch(kube: KubeEmulator) -> None:
    kube.apply([pod("stays"), pod("leaves")])

    async def main() -> None:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            stays = asyncio.create_task(wait_for_object(api, PODS, NS, "stays", phase_done))
            leaves = asyncio.create_task(wait_for_object(api, PODS, NS, "leaves", phase_done))
            await wait_until(lambda: kube.store.watcher_count == 1)
            leaves.cancel()  # a task killed while deferred
            await asyncio.gather(leaves, return_exceptions=True)
            await asyncio.sleep(0.2)
            assert kube.store.watcher_count == 1 and len(shared_collections()) == 1
            await set_phase(writer, "stays", "Succeeded")
            assert (await stays).verdict == "Succeeded"
            await wait_until(lambda: kube.store.watcher_count == 0)
            assert shared_collections() == {}

    run(main())


def test_different_namespaces_and_selectors_get_their_own_watch(kube: KubeEmulator) -> None:
    kube.create_namespace("other")
    kube.apply([pod("a", labels={"spark-role": "driver"}), pod("b")])
    kube.apply({**pod("c"), "metadata": {"name": "c", "namespace": "other"}})

    async def main() -> None:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            waits = [
                asyncio.create_task(wait_for_object(api, PODS, NS, "a", phase_done,
                                                    label_selector="spark-role=driver")),
                asyncio.create_task(wait_for_object(api, PODS, NS, "b", phase_done)),
                asyncio.create_task(wait_for_object(api, PODS, "other", "c", phase_done)),
            ]
            await wait_until(lambda: kube.store.watcher_count == 3)
            for name in ("a", "b"):
                await set_phase(writer, name, "Succeeded")
            await writer.request("PATCH", PODS.path("other", "c", "status"), body={"status": {"phase": "Failed"}},
                                 content_type="application/merge-patch+json")
            assert [r.verdict for r in await asyncio.gather(*waits)] == ["Succeeded", "Succeeded", "Failed"]

    run(main())


def test_a_dropped_watch_resumes_without_losing_the_change(kube: KubeEmulator) -> None:
    kube.apply(pod("p"))
    drop = kube.faults.add(verb="watch", resource="pods", drop_watch_after_seconds=0.3, times=3)

    async def main() -> str:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "p", phase_done))
            await wait_until(lambda: drop.fired == 3)
            await set_phase(writer, "p", "Succeeded")
            return (await wait).verdict

    assert run(main()) == "Succeeded"
    assert counted(kube, "list") == 1  # resumed from the last resourceVersion, no relist


def test_410_gone_relists_and_sees_what_changed(kube: KubeEmulator) -> None:
    kube.apply(pod("p"))
    gone = kube.faults.add(verb="watch", resource="pods", gone=True, times=1)

    async def main() -> str:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "p", phase_done))
            await wait_until(lambda: gone.fired == 1 and counted(kube, "list") == 2)
            await set_phase(writer, "p", "Succeeded")
            return (await wait).verdict

    assert run(main()) == "Succeeded"
    assert counted(kube, "list") == 2


def test_server_errors_back_off_and_honour_retry_after(kube: KubeEmulator) -> None:
    kube.apply(pod("q"))
    throttle = kube.faults.add(verb="list", resource="pods", status=429, retry_after=1, times=1)
    broken = kube.faults.add(verb="watch", resource="pods", status=503, times=1)
    delays: list[tuple[int, float]] = []

    async def main() -> str:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "q", phase_done,
                                                       on_error=lambda exc, delay: delays.append((exc.status, delay))))
            await wait_until(lambda: broken.fired == 1 and kube.store.watcher_count == 1)
            await set_phase(writer, "q", "Failed")
            return (await wait).verdict

    started = time.monotonic()
    assert run(main()) == "Failed"
    assert throttle.fired == 1 and [status for status, _ in delays] == [429, 503]
    assert delays[0][1] >= 1 and time.monotonic() - started >= 1


def test_a_forbidden_watch_fails_every_waiter_with_the_servers_answer(kube: KubeEmulator) -> None:
    kube.apply([pod("p"), pod("q")])
    kube.faults.add(verb="list", resource="pods", status=403, message='pods is forbidden: User "x" cannot list')

    async def main() -> list[Any]:
        async with SharedKubeAPI(opener(kube), "cluster") as api:
            return await asyncio.gather(*(wait_for_object(api, PODS, NS, name, phase_done) for name in ("p", "q")),
                                        return_exceptions=True)

    errors = run(main())
    assert all(isinstance(e, KubeApiError) and e.status == 403 and "cannot list" in str(e) for e in errors)


def test_401_reopens_the_client_so_a_rotated_token_is_picked_up(kube: KubeEmulator) -> None:
    kube.apply(pod("p"))
    kube.faults.add(verb="watch", resource="pods", status=401, times=1)
    opened: list[int] = []

    async def main() -> str:
        async with SharedKubeAPI(opener(kube, opened), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "p", phase_done))
            await wait_until(lambda: len(opened) == 2 and kube.store.watcher_count == 1)
            await set_phase(writer, "p", "Succeeded")
            return (await wait).verdict

    assert run(main()) == "Succeeded"


def test_an_object_created_after_the_wait_began_is_not_reported_gone(kube: KubeEmulator) -> None:
    kube.apply(pod("early"))

    async def main() -> list[str]:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            first = asyncio.create_task(wait_for_object(api, PODS, NS, "early", phase_done))
            await wait_until(lambda: kube.store.watcher_count == 1)
            # Created, then waited on at once: the shared cache may not know it yet; the waiter must not
            # conclude it is gone.
            await writer.request("POST", PODS.path(NS), body=pod("late"))
            late = asyncio.create_task(wait_for_object(api, PODS, NS, "late", phase_done))
            await asyncio.sleep(0.2)
            assert not late.done()
            for name in ("early", "late"):
                await set_phase(writer, name, "Succeeded")
            return [(await first).verdict, (await late).verdict]

    assert run(main()) == ["Succeeded", "Succeeded"]


def test_a_deleted_object_ends_the_wait_as_gone(kube: KubeEmulator) -> None:
    kube.apply(pod("p"))

    async def main() -> Any:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "p", phase_done))
            await wait_until(lambda: kube.store.watcher_count == 1)
            await writer.request("DELETE", PODS.path(NS, "p"))
            return await wait

    waited = run(main())
    assert waited.verdict == "gone" and waited.object is None


def test_deadlines_are_per_waiter(kube: KubeEmulator) -> None:
    kube.apply([pod("slow"), pod("fast")])

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        soon = loop.time() + 0.3
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            timed = asyncio.create_task(wait_for_object(api, PODS, NS, "slow", phase_done, deadline=lambda _: soon,
                                                        on_deadline=lambda obj: "timeout"))
            plain = asyncio.create_task(wait_for_object(api, PODS, NS, "fast", phase_done))
            first = (await timed).verdict
            assert not plain.done()
            await set_phase(writer, "fast", "Succeeded")
            return [first, (await plain).verdict]

    assert run(main()) == ["timeout", "Succeeded"]


def test_each_full_window_ends_in_a_relist(kube: KubeEmulator) -> None:
    """The slow safety re-read: whatever a watch might have missed, the next window's list sees."""
    kube.apply(pod("p"))

    async def main() -> str:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "p", phase_done, window=1))
            await wait_until(lambda: counted(kube, "list") >= 3, timeout=15)
            await set_phase(writer, "p", "Succeeded")
            return (await wait).verdict

    assert run(main()) == "Succeeded"


def test_a_private_wait_watches_only_its_object(kube: KubeEmulator) -> None:
    """Without a share key (the worker), the wait narrows list and watch to its object."""
    kube.apply([pod("p"), pod("q")])
    run(finish("p", kube))

    async def main() -> str:
        async with opener(kube)() as api:
            return (await wait_for_object(api, PODS, NS, "p", phase_done)).verdict

    assert run(main()) == "Succeeded"
    lists = [r for r in kube.requests.snapshot() if r.verb == "list"]
    assert len(lists) == 1 and "metadata.name" in lists[0].query


def test_an_object_outside_the_selector_is_followed_by_slow_re_reads(kube: KubeEmulator) -> None:
    """Never stranded: a pod the shared watch cannot see (it lacks the selector's label) is re-read at each
    relist instead of being reported gone or waited on forever."""
    kube.apply(pod("unlabelled"))

    async def main() -> str:
        async with SharedKubeAPI(opener(kube), "cluster") as api, opener(kube)() as writer:
            wait = asyncio.create_task(wait_for_object(api, PODS, NS, "unlabelled", phase_done, window=1,
                                                       label_selector="spark-role=driver"))
            await wait_until(lambda: counted(kube, "get") >= 1)
            await asyncio.sleep(0.3)
            assert not wait.done()
            await set_phase(writer, "unlabelled", "Succeeded")
            return (await wait).verdict

    assert run(main()) == "Succeeded"
