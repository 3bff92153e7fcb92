"""How much the Kubernetes API emulator sustains on this machine: requests per second by verb, and how many
concurrent watches it holds while still delivering an event to every one of them.

The emulator runs as its own process (`sparkk8s emulator`) and the load comes from this one, so both get a
core. Run:  .venv/bin/python benchmarks/emulator_capacity.py [--seconds 5] [--watches 250,1000,2000] [--json PATH]
      .venv/bin/python benchmarks/emulator_capacity.py --quick     (1 s per rate, 100 and 250 watches)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
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


async def main(args: argparse.Namespace) -> dict:
    began = time.monotonic()
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
        shutil.rmtree(workdir, ignore_errors=True)
    command = shlex.join(["python", "benchmarks/emulator_capacity.py", *sys.argv[1:]])
    notes = [
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"aiohttp {aiohttp.__version__}.",
        f"Command: {command} (took {(time.monotonic() - began) / 60:.1f} min).",
        f"The emulator (`sparkk8s emulator --no-pods`) runs as its own process; {args.concurrency} concurrent "
        f"aiohttp clients in this process loop on each request for {args.seconds:g} s.",
        "Watches: that many watches on pods are opened (100 at a time), then one pod is created; the last column "
        "is the time until every watch has read its ADDED event.",
    ]
    watch_table = {"title": "Emulator: concurrent watches", "columns": ["concurrent watches", "seconds to open",
                                                                         "one event reaches all (s)"],
                   "rows": [[f"{n:,}", f"{open_s:.2f}", f"{fan:.3f}"] for n, open_s, fan in watch_rows],
                   "notes": []}
    return {"title": "Kubernetes API emulator capacity (requests/s by verb)", "columns": ["request", "requests/s"],
            "rows": [[name, f"{value:,.0f}"] for name, value in rows], "notes": notes, "tables": [watch_table],
            "data": {"rates": dict(rows), "watches": [{"watches": n, "open_seconds": o, "fan_out_seconds": f}
                                                      for n, o, f in watch_rows]}}


def markdown(table: dict) -> str:
    lines = [f"## {table['title']}", "", "| " + " | ".join(table["columns"]) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(table["columns"]))) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    return "\n".join(lines + [""] + [f"- {note}" for note in table["notes"]])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=None, help="duration of each request-rate case (5)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients for request rates")
    parser.add_argument("--watches", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="comma-separated numbers of concurrent watches (250,1000,2000)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 s per rate, 100 and 250 watches")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    arguments = parser.parse_args()
    arguments.seconds = arguments.seconds or (1.0 if arguments.quick else 5.0)
    arguments.watches = arguments.watches or ([100, 250] if arguments.quick else [250, 1000, 2000])
    result = asyncio.run(main(arguments))
    print(markdown(result) + "\n\n" + markdown(result["tables"][0]))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(result, indent=2) + "\n")
