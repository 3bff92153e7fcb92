"""A small read-only stand-in for the Argo Workflows UI, served by the Argo Server emulation at the path the
real UI uses, ``/workflows/<namespace>/<name>``: the workflow's phase, message, times and nodes, so the
"Argo Workflows UI" extra link of a task opens a page that shows its workflow. Everything else of the UI is
left out. Like the real UI, the page needs the caller's token (``authorization`` cookie or header) when the
server requires one; without it the page says so and offers to set the cookie."""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

PATH_PREFIX = "/workflows/"
_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.Failed,.Error{color:#b00}"
          ".Succeeded{color:#070}.Running,.Pending{color:#a60}")
_COMPLETED = ("Succeeded", "Failed", "Error")


def is_ui_path(path: str) -> bool:
    return path.startswith(PATH_PREFIX)


def _page(title: str, body: str, status: int = 200, refresh: bool = False) -> web.Response:
    head = "<meta http-equiv=\"refresh\" content=\"5\">" if refresh else ""  # follow a running workflow
    html = (f"<!doctype html><html><head><meta charset=\"utf-8\">{head}<title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")
    return web.Response(text=html, status=status, content_type="text/html")


def workflow_page(wf: dict[str, Any]) -> web.Response:
    meta, status = wf.get("metadata") or {}, wf.get("status") or {}
    phase = status.get("phase") or "Pending"
    rows = "".join(
        f"<tr><td>{escape(node.get('displayName') or node_id)}</td>"
        f"<td>{escape(node.get('type') or '')}</td><td class=\"{escape(node.get('phase') or '')}\">"
        f"{escape(node.get('phase') or '')}</td><td>{escape(node.get('message') or '')}</td>"
        f"<td>{escape(node.get('startedAt') or '')}</td><td>{escape(node.get('finishedAt') or '')}</td></tr>"
        for node_id, node in sorted((status.get("nodes") or {}).items(),
                                    key=lambda item: item[1].get("startedAt") or ""))
    name = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    body = (f"<h1>Workflow {escape(name)}</h1>"
            f"<p>Phase: <strong class=\"{escape(phase)}\">{escape(phase)}</strong></p>"
            + (f"<p>Message: {escape(status['message'])}</p>" if status.get("message") else "")
            + f"<p>Started: {escape(status.get('startedAt') or '-')} &middot; "
              f"Finished: {escape(status.get('finishedAt') or '-')} &middot; "
              f"Progress: {escape(status.get('progress') or '-')}</p>"
            + "<h2>Nodes</h2><table><tr><th>Name</th><th>Type</th><th>Phase</th><th>Message</th><th>Started</th>"
              f"<th>Finished</th></tr>{rows}</table>")
    return _page(f"{name} - Argo Workflows", body, refresh=phase not in _COMPLETED)


def error_page(status: int, message: str) -> web.Response:
    """An error of a UI request, as a page: a link must never land on a JSON error."""
    body = f"<h1>{escape(message)}</h1>"
    if status == 401:
        body += ("<p>This Argo Server needs a bearer token.</p><form onsubmit=\"document.cookie='authorization='"
                 "+encodeURIComponent('Bearer '+this.token.value)+';path=/';location.reload();return false\">"
                 "<input name=\"token\" type=\"password\" placeholder=\"token\"> <button>Log in</button></form>")
    return _page(message, body, status)
