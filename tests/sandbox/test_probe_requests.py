"""The requests of the local kubelet's httpGet probes and hooks, seen by a real HTTP server on loopback.

What the kubelet's prober does (pkg/probe/http): it sends ``User-Agent: kube-probe/<major>.<minor>`` and
``Accept: */*`` unless the probe's httpHeaders set them (an empty Accept sends none; a Host header is the request's
host); it follows redirects on the same host name, up to 10 requests; a redirect to another host ends the probe
with the redirect, a success with a warning; a status from 200 to 399 is a success, any other a failure whose
message has the status and never the body. A lifecycle hook's GET (``kube-lifecycle/...``) fails only when no
response comes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from airflow_provider_sparkk8s.testing.controllers.local_actions import FAILURE, SUCCESS, WARNING, ActionError
from airflow_provider_sparkk8s.testing.controllers.local_hooks import run_hook
from airflow_provider_sparkk8s.testing.controllers.local_probes import READINESS, Probe, try_probe
from tests.sandbox.local_kubelet import free_port

SPEC = {"name": "main", "ports": [{"name": "web", "containerPort": 0}]}


def serving(scenario: Callable[[int, list[str]], Awaitable[Any]]) -> Any:
    """Run ``scenario(port, paths requested)`` while a small server answers on 127.0.0.1:port."""
    requested: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        requested.append(request.path)
        port = request.url.port
        if request.path == "/hop":
            raise web.HTTPFound("/ok")
        if request.path == "/away":  # the same server, under another host name
            raise web.HTTPFound(f"http://localhost:{port}/ok", text="moved")
        if request.path == "/loop":
            raise web.HTTPFound("/loop")
        if request.path == "/headers":
            return web.json_response({"host": request.host, **{k.lower(): v for k, v in request.headers.items()}})
        if request.path == "/missing":
            return web.Response(status=404, text="not here")
        return web.Response(text="fine")

    async def run() -> Any:
        app = web.Application()
        app.router.add_get("/{path:.*}", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await scenario(port, requested)
        finally:
            await runner.cleanup()
    return asyncio.run(run())


def probe(port: int | str, path: str, **http: Any) -> Probe:
    found = Probe.of(READINESS, {"httpGet": {"path": path, "port": port, **http}})
    assert found is not None
    return found


def test_redirects_are_followed_on_the_same_host_only() -> None:
    async def scenario(port: int, requested: list[str]) -> list[Any]:
        return [await try_probe(probe(port, path), None, SPEC, "127.0.0.1")  # type: ignore[arg-type]
                for path in ("/hop", "/away", "/loop", "/missing")] + [list(requested)]
    hop, away, loop, missing, requested = serving(scenario)
    assert (hop.result, hop.output) == (SUCCESS, "fine")
    assert (away.result, away.output) == (WARNING, "Probe terminated redirects, Response body: moved")
    assert loop.result == FAILURE and loop.output.endswith('/loop": stopped after 10 redirects')
    assert (missing.result, missing.output) == (FAILURE, "HTTP probe failed with statuscode: 404")
    assert requested[:3] == ["/hop", "/ok", "/away"] and requested.count("/loop") == 10


def test_the_probe_request_headers() -> None:
    async def scenario(port: int, _: list[str]) -> list[dict]:
        plain = await try_probe(probe(port, "headers"), None, SPEC, "127.0.0.1")  # type: ignore[arg-type]
        custom = probe(port, "/headers", httpHeaders=[{"name": "x-token", "value": "a"},
                                                      {"name": "Accept", "value": ""},
                                                      {"name": "Host", "value": "example.test"}])
        return [json.loads(plain.output),
                json.loads((await try_probe(custom, None, SPEC, "127.0.0.1")).output)]  # type: ignore[arg-type]
    plain, custom = serving(scenario)
    assert (plain["user-agent"], plain["accept"]) == ("kube-probe/1.32", "*/*")
    assert (custom["x-token"], custom["host"], custom["user-agent"]) == ("a", "example.test", "kube-probe/1.32")
    assert "accept" not in custom


def test_connection_failures_and_unknown_port_names() -> None:
    closed = free_port()
    refused = asyncio.run(try_probe(probe(closed, "/"), None, SPEC, "127.0.0.1"))  # type: ignore[arg-type]
    assert (refused.result, refused.output) == (
        FAILURE, f'Get "http://127.0.0.1:{closed}/": dial tcp 127.0.0.1:{closed}: connect: connection refused')
    try:
        asyncio.run(try_probe(probe("metrics", "/"), None, SPEC, "127.0.0.1"))  # type: ignore[arg-type]
    except ActionError as exc:  # the kubelet's "probe errored": not counted as a failure
        assert str(exc) == 'strconv.Atoi: parsing "metrics": invalid syntax'
    else:
        raise AssertionError("a port name the container does not declare cannot be probed")


def test_a_hook_get_fails_only_without_a_response() -> None:
    hook = {"httpGet": {"path": "/missing", "port": 0}}

    async def scenario(port: int, requested: list[str]) -> tuple[str | None, list[str]]:
        answered = await run_hook({"httpGet": {"path": "/missing", "port": port}}, None, SPEC,  # type: ignore
                                  "127.0.0.1", "p_default(u)")
        return answered, list(requested)
    assert serving(scenario) == (None, ["/missing"])  # a 404 is a response
    closed = free_port()
    hook["httpGet"]["port"] = closed
    failed = asyncio.run(run_hook(hook, None, SPEC, "127.0.0.1", "p_default(u)"))  # type: ignore[arg-type]
    assert failed == (f'HTTP lifecycle hook (/missing) for Container "main" in Pod "p_default(u)" failed - error: '
                      f'Get "http://127.0.0.1:{closed}/missing": dial tcp 127.0.0.1:{closed}: connect: '
                      f"connection refused")
