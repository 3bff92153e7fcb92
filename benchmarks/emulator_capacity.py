"""How much the Kubernetes API emulator sustains on this machine: requests per second by verb, and how many
concurrent watches it holds while still delivering an event to every one of them.

The emulator runs as its own process (`sparkk8s emulator`) and the load comes from this one, so both get a
core. Run:  .venv/bin/python benchmarks/emulator_capacity.py [--seconds 5] [--watches 250,1000,2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp


def start_emulator(workdir: Path) -> tuple[subprocess.Popen[str], str]:
    cli = Path(sys.executable).with_name("sparkk8s")
    proc = subprocess.Popen([str(cli), "emulator", "--workdir", str(workdir), "--no-pods"], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Kubernetes API emulator listening on "):
            return proc, line.rsplit(" ", 1)[1].strip()
    raise RuntimeError("the emulator did not start")


async def rate(session: aiohttp.ClientSession, make_request, seconds: float, concurrency: int) -> float:
    """Requests per second completed by `concurrency` workers looping for `seconds`."""
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < deadline:
            async with make_request(session, index, i) as resp:
                await resp.read()
                if resp.status >= 400:
                    raise RuntimeError(f"request failed: {resp.status}")
            done += 1
            i += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done / (time.monotonic() - started)


async def watches(session: aiohttp.ClientSession, url: str, count: int) -> tuple[float, float]:
    """Open `count` watches on pods; create one pod; return (seconds to open them, fan-out seconds)."""
    async with session.get(f"{url}/api/v1/namespaces/default/pods") as resp:
        rv = (await resp.json())["metadata"]["resourceVersion"]
    opened: list[aiohttp.ClientResponse] = []
    t0 = time.monotonic()
    for batch in range(0, count, 100):
        responses = await asyncio.gather(*(
            session.get(f"{url}/api/v1/namespaces/default/pods", params={"watch": "true", "resourceVersion": rv})
            for _ in range(min(100, count - batch))))
        opened.extend(responses)
    open_seconds = time.monotonic() - t0
    async with session.get(f"{url}/_emulator/counters") as resp:
        held = (await resp.json())["watches"]
    if held < count:
        raise RuntimeError(f"only {held} of {count} watches are open")
    received = 0

    async def first_event(resp: aiohttp.ClientResponse) -> None:
        nonlocal received
        line = await resp.content.readline()
        if json.loads(line)["type"] == "ADDED":
            received += 1

    waiting = [asyncio.ensure_future(first_event(r)) for r in opened]
    t1 = time.monotonic()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "w-"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    async with session.post(f"{url}/api/v1/namespaces/default/pods", json=pod) as resp:
        assert resp.status == 201
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=120)
    fan_out = time.monotonic() - t1
    for r in opened:
        r.close()
    if received != count:
        raise RuntimeError(f"{count - received} watches missed the event")
    return open_seconds, fan_out


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="emulator-bench-"))
    proc, url = start_emulator(workdir)
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
            for i in range(10):
                cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"seed-{i}"}, "data": {"k": "v"}}
                async with session.post(f"{url}/api/v1/namespaces/default/configmaps", json=cm) as resp:
                    assert resp.status == 201
            base = f"{url}/api/v1/namespaces/default/configmaps"
            cases = {
                "get (one configmap)": lambda s, w, i: s.get(f"{base}/seed-{i % 10}"),
                "list (10 configmaps)": lambda s, w, i: s.get(base),
                "create (configmap)": lambda s, w, i: s.post(base, json={
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c-{w}-{i}"}}),
                "merge patch (configmap)": lambda s, w, i: s.patch(
                    f"{base}/seed-{w % 10}", data=json.dumps({"data": {"n": str(i)}}),
                    headers={"Content-Type": "application/merge-patch+json"}),
            }
            rows = []
            for name, make in cases.items():
                rows.append((name, await rate(session, make, args.seconds, args.concurrency)))
            watch_rows = []
            for n in args.watches:
                watch_rows.append((n, *await watches(session, url, n)))
    finally:
        proc.terminate()
        proc.wait(30)
    print(f"# Kubernetes API emulator capacity\n\nmachine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}\ncommand: "
          f"python benchmarks/emulator_capacity.py --seconds {args.seconds} --concurrency {args.concurrency} "
          f"--watches {','.join(map(str, args.watches))}\n")
    print("| request | requests/s |\n| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value:,.0f} |")
    print("\n| concurrent watches | seconds to open | one event reaches all (s) |\n| ---: | ---: | ---: |")
    for n, open_s, fan in watch_rows:
        print(f"| {n:,} | {open_s:.2f} | {fan:.3f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each request-rate case")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients for request rates")
    parser.add_argument("--watches", type=lambda s: [int(x) for x in s.split(",")], default=[250, 1000, 2000])
    asyncio.run(main(parser.parse_args()))
