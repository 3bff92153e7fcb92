"""Kubernetes `Status` error bodies, shaped as the real API server writes them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API failure that the server turns into a `Status` body with the same code."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:  # omitempty: an unknown reason is left out
            body["reason"] = self.reason
        # The real server's field order: ..., message, reason, details, code.
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    # StatusDetails.group is omitempty: the core group leaves it out.
    return {"name": name, **({"group": group} if group else {}), "kind": kind}


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    res = _qualified(plural, group)
    return ApiError(404, "NotFound", f'{res} "{name}" not found', _details(name, group, plural))


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    res = _qualified(plural, group)
    return ApiError(
        409, "AlreadyExists", f'{res} "{name}" already exists', _details(name, group, plural)
    )


def conflict(plural: str, name: str, group: str = "", why: str | None = None) -> ApiError:
    res = _qualified(plural, group)
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {res} "{name}": {why}',
        _details(name, group, plural),
    )


def invalid(kind: str, name: str, causes: list[tuple[str, str, Any, str]], group: str = "") -> ApiError:
    """causes: (field, reason type e.g. FieldValueInvalid, bad value, detail)."""
    parts = []
    for fld, _typ, value, detail in causes:
        if value is None:
            parts.append(f"{fld}: {detail}")
        else:
            parts.append(f"{fld}: Invalid value: {_go_quote(value)}: {detail}")
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{kind}{"." + group if group else ""} "{name}" is invalid: {summary}',
        {
            **_details(name, group, kind),
            "causes": [
                {"reason": typ, "message": (f"Invalid value: {_go_quote(v)}: {d}" if v is not None else d), "field": f}
                for f, typ, v, d in causes
            ],
        },
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml; got "{content_type}"')  # noqa: E501


def expired(requested: str, oldest: int) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def _go_quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
