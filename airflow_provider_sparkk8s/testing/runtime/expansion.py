"""Kubernetes' ``$(VAR)`` expansion (third_party/forked/golang/expansion), used for env values, command, args and
subPathExpr: ``$(NAME)`` becomes the variable's value when it is defined and stays as written when it is not;
``$$`` is one ``$`` (so ``$$(NAME)`` is the literal ``$(NAME)``); any other ``$`` stays as written."""

from __future__ import annotations

from collections.abc import Mapping


def expand(text: str, *contexts: Mapping[str, str]) -> str:
    """``text`` with its references resolved from the first context that defines them."""
    out: list[str] = []
    checkpoint = cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, advance = _reference(text[cursor + 1:], contexts)
            out.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _reference(rest: str, contexts: tuple[Mapping[str, str], ...]) -> tuple[str, int]:
    """What follows a ``$``: the text it stands for, and how many characters after the ``$`` it used."""
    if rest[0] == "$":
        return "$", 1
    if rest[0] == "(":
        close = rest.find(")", 1)
        if close == -1:  # an unterminated reference stays as written
            return "$(", 1
        name = rest[1:close]
        for context in contexts:
            if name in context:
                return context[name], close + 1
        return f"$({name})", close + 1
    return "$" + rest[0], 1
