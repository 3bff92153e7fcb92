"""Oozie EL (``${...}``) translated to Airflow Jinja or to Argo template tags.

Each ``${...}`` is tokenized and parsed (recursive descent, JSP 2.1 EL grammar as Oozie uses it) into a small
AST, then one emitter per target turns the AST into target code:

* Airflow: a Jinja expression; text fields get ``{{ expr }}``, decision predicates the bare expression. Helpers
  come from the ``oozie`` macro namespace (:mod:`airflow_provider_sparkk8s.migrate.runtime`), so the DAG needs
  ``user_defined_macros=runtime.MACROS``.
* Argo: a plain tag (``{{workflow.parameters.x}}``) when the expression is one variable, else an expression tag
  ``{{=...}}`` (expr-lang with ``sprig.*``, ``asFloat``, ``jsonpath``); ``when`` conditions are govaluate
  (``'{{tasks.a.outputs.parameters.k}}' == 'x'``) or an expression tag that yields ``true``/``false``.

EL's loose typing is reproduced with a static type per sub-expression ("str", "num", "bool", "null", "map",
"time" — Argo only — and "any"), coercing where EL would. Anything that cannot be translated keeps the original
``${...}`` visible as ``<oozie-el-unsupported: ${...}>`` and is reported as an ``unsupported`` issue.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from airflow_provider_sparkk8s.migrate.oozie.ir import Dataset, Issue, Source
from airflow_provider_sparkk8s.migrate.runtime import java_pattern_tokens

Target = Literal["airflow", "argo"]
_EMPTY: Mapping[str, str] = MappingProxyType({})
USER_PROPERTY = "user.name"
APP_PATH_PROPERTY = "oozie.wf.application.path"


@dataclass(frozen=True)
class ElContext:
    """What the translation needs to know about the converted application.

    ``parameters`` maps an Oozie property name to how the target refers to it at run time (Airflow: a Jinja
    expression such as ``params['user.name']``; Argo: a tag body such as ``workflow.parameters.user-name``).
    ``capture_nodes`` (optional) names the actions with ``<capture-output/>``; when given, ``wf:actionData`` of
    any other node is reported unsupported. ``dataset`` (optional) is the dataset whose instances
    ``coord:current(n)`` counts (a data-in/data-out instance)."""

    parameters: Mapping[str, str]
    task_ids: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    app_name: str = ""
    coordinator: bool = False
    capture_nodes: frozenset[str] | None = None
    dataset: Dataset | None = None


@dataclass(frozen=True)
class Translation:
    text: str
    issues: tuple[Issue, ...] = ()

    @property
    def supported(self) -> bool:
        return not any(issue.level == "unsupported" for issue in self.issues)


def translate(text: str, source: Source, target: Target, ctx: ElContext, *, condition: bool = False,
              element: str = "") -> Translation:
    """Translate an Oozie value (literal text mixed with ``${...}``) for ``target``.

    With ``condition=True`` the value is a decision predicate and the result is a boolean expression: a Jinja
    expression (no braces) for Airflow, a ``when`` expression for Argo."""
    emitter = (AirflowEmitter if target == "airflow" else ArgoEmitter)(ctx, source, element)
    pieces = _split(text, source, element, emitter.issues)
    if condition:
        return Translation(emitter.condition(pieces), tuple(emitter.issues))
    return Translation("".join(emitter.text_piece(piece) for piece in pieces), tuple(emitter.issues))


def marker(el_text: str) -> str:
    """How an untranslatable ``${...}`` stays visible in the output."""
    return f"<oozie-el-unsupported: {el_text}>"


# ------------------------------------------------------------------------------------------ tokenizer

_KEYWORDS = {"true", "false", "null", "and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod",
             "empty", "instanceof"}
_OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", "(", ")",
              "[", "]", ",", ".", "}"]
_ALIASES = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "and": "&&", "or": "||",
            "not": "!", "div": "/", "mod": "%"}
_NUMBER = re.compile(r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class ElSyntaxError(Exception):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, str, ident, kw, op, eof
    value: str | int | float | None
    start: int  # index in the whole text
    end: int


def _string_literal(text: str, start: int) -> tuple[str, int]:
    quote, chars, index = text[start], [], start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
        elif char == quote:
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    raise ElSyntaxError("unterminated string literal", start + 1)


def _tokenize(text: str, start: int) -> tuple[list[_Tok], int]:
    """Tokens of the EL starting at ``start`` (after ``${``) up to its closing ``}``; returns the index after it."""
    tokens: list[_Tok] = []
    index = start
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "'\"":
            value, end = _string_literal(text, index)
            tokens.append(_Tok("str", value, index, end))
            index = end
        elif (number := _NUMBER.match(text, index)) and (char.isdigit() or number.group(0) != "."):
            literal = number.group(0)
            tokens.append(_Tok("num", float(literal) if any(c in literal for c in ".eE") else int(literal), index,
                               number.end()))
            index = number.end()
        elif ident := _IDENT.match(text, index):
            word = ident.group(0)
            tokens.append(_Tok("kw" if word in _KEYWORDS else "ident", word, index, ident.end()))
            index = ident.end()
        else:
            symbol = next((op for op in _OPERATORS if text.startswith(op, index)), None)
            if symbol is None:
                raise ElSyntaxError(f"unexpected character {char!r}", index + 1)
            if symbol == "}":
                tokens.append(_Tok("eof", None, index, index + 1))
                return tokens, index + 1
            tokens.append(_Tok("op", symbol, index, index + len(symbol)))
            index += len(symbol)
    raise ElSyntaxError("'${' is not closed by '}'", start - 1)


# ------------------------------------------------------------------------------------------ AST


@dataclass(frozen=True)
class Lit:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Prop:
    name: str  # dotted names (user.name) are one property, as Oozie resolves them


@dataclass(frozen=True)
class Call:
    name: str  # "wf:id", "concat"
    args: tuple[Node, ...]
    column: int = 0


@dataclass(frozen=True)
class Index:
    target: Node
    key: Node


@dataclass(frozen=True)
class Unary:
    op: str  # - ! empty
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # canonical symbol: == != < > <= >= && || + - * / %
    left: Node
    right: Node


@dataclass(frozen=True)
class Cond:
    test: Node
    then: Node
    other: Node


Node = Lit | Prop | Call | Index | Unary | Binary | Cond

_LEVELS: list[tuple[str, ...]] = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"),
                                  ("*", "/", "%")]


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> _Tok:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def op(self, tok: _Tok) -> str | None:
        if tok.kind == "op":
            return str(tok.value)
        return _ALIASES.get(str(tok.value), str(tok.value)) if tok.kind == "kw" else None

    def take(self) -> _Tok:
        tok = self.peek()
        self.pos += 1
        return tok

    def expect(self, symbol: str) -> _Tok:
        tok = self.peek()
        if self.op(tok) != symbol:
            raise ElSyntaxError(f"expected {symbol!r}, found {_describe(tok)}", tok.start + 1)
        return self.take()

    def parse(self) -> Node:
        if self.peek().kind == "eof":
            raise ElSyntaxError("empty expression", self.peek().start + 1)
        node = self.ternary()
        if self.peek().kind != "eof":
            raise ElSyntaxError(f"unexpected {_describe(self.peek())}", self.peek().start + 1)
        return node

    def ternary(self) -> Node:
        test = self.binary(0)
        if self.op(self.peek()) != "?":
            return test
        self.take()
        then = self.ternary()
        self.expect(":")
        return Cond(test, then, self.ternary())

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.op(self.peek()) in _LEVELS[level]:
            symbol = str(self.op(self.take()))
            node = Binary(symbol, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        symbol = self.op(self.peek())
        if symbol in ("-", "!", "empty"):
            self.take()
            return Unary(symbol, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            symbol = self.op(self.peek())
            if symbol == "[":
                self.take()
                key = self.ternary()
                self.expect("]")
                node = Index(node, key)
            elif symbol == ".":
                self.take()
                name = self.take()
                if name.kind not in ("ident", "kw"):
                    raise ElSyntaxError(f"expected a name after '.', found {_describe(name)}", name.start + 1)
                node = Prop(f"{node.name}.{name.value}") if isinstance(node, Prop) else Index(node, Lit(name.value))
            else:
                return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind in ("num", "str"):
            return Lit(tok.value)
        if tok.kind == "kw" and tok.value in ("true", "false", "null"):
            return Lit({"true": True, "false": False, "null": None}[str(tok.value)])
        if self.op(tok) == "(":
            node = self.ternary()
            self.expect(")")
            return node
        if tok.kind == "ident":
            return self.name(tok)
        raise ElSyntaxError(f"unexpected {_describe(tok)}", tok.start + 1)

    def name(self, tok: _Tok) -> Node:
        name = str(tok.value)
        colon, function = self.peek(), self.peek(1)
        # ns:fn( — written without spaces, which tells it apart from the ':' of a ternary
        if (self.op(colon) == ":" and function.kind == "ident" and colon.start == tok.end
                and function.start == colon.end and self.op(self.peek(2)) == "("):
            self.pos += 2
            name = f"{name}:{function.value}"
        if self.op(self.peek()) != "(":
            return Prop(name)
        self.take()
        args: list[Node] = []
        if self.op(self.peek()) != ")":
            args.append(self.ternary())
            while self.op(self.peek()) == ",":
                self.take()
                args.append(self.ternary())
        self.expect(")")
        return Call(name, tuple(args), tok.start + 1)


def _describe(tok: _Tok) -> str:
    return "end of expression" if tok.kind == "eof" else repr(tok.value)


def parse(expression: str) -> Node:
    """Parse one EL expression (the inside of ``${...}``). Raises :class:`ElSyntaxError`."""
    tokens, end = _tokenize(expression + "}", 0)
    if end != len(expression) + 1:
        raise ElSyntaxError("unexpected '}'", end)
    return _Parser(tokens).parse()


# ------------------------------------------------------------------------------------------ splitting text


@dataclass(frozen=True)
class _El:
    text: str  # "${...}" as written
    node: Node | None  # None: it did not parse (an error issue was recorded)


def _split(text: str, source: Source, element: str, issues: list[Issue]) -> list[str | _El]:
    """Literal strings and parsed ``${...}`` pieces, in order."""
    pieces: list[str | _El] = []
    index = 0
    while (start := text.find("${", index)) >= 0:
        if start > index:
            pieces.append(text[index:start])
        try:
            tokens, end = _tokenize(text, start + 2)
            pieces.append(_El(text[start:end], _Parser(tokens).parse()))
        except ElSyntaxError as error:
            issues.append(Issue("error", f"EL syntax error at column {error.column}: {error} in {text!r}",
                                source, element))
            end = _closing_brace(text, start)
            pieces.append(_El(text[start:end], None))
        index = end
    if index < len(text):
        pieces.append(text[index:])
    return pieces


def _closing_brace(text: str, start: int) -> int:
    close = text.find("}", start)
    return len(text) if close < 0 else close + 1


# ------------------------------------------------------------------------------------------ emitters


class Unsupported(Exception):
    """This ``${...}`` cannot be translated; the message says why."""


@dataclass(frozen=True)
class Value:
    code: str
    type: str  # str num bool null map time any
    tag: str | None = None  # Argo: the plain tag body when the value is one variable
    const: object = None  # the value when known at conversion time (literals)
    is_const: bool = False


# arity of the functions we translate (min, max)
_ARITY: dict[str, tuple[int, int]] = {
    "concat": (2, 2), "trim": (1, 1), "replaceAll": (3, 3), "appendAll": (3, 3), "firstNotNull": (2, 2),
    "urlEncode": (1, 1), "timestamp": (0, 0), "toJsonStr": (1, 1), "toPropertiesStr": (1, 1),
    "toConfigurationStr": (1, 1), "wf:id": (0, 0), "wf:name": (0, 0), "wf:appPath": (0, 0), "wf:conf": (1, 1),
    "wf:user": (0, 0), "wf:group": (0, 0), "wf:run": (0, 0), "wf:lastErrorNode": (0, 0),
    "wf:errorMessage": (1, 1), "wf:errorCode": (1, 1), "wf:actionData": (1, 1), "wf:actionExternalStatus": (1, 1),
    "coord:nominalTime": (0, 0), "coord:actualTime": (0, 0), "coord:formatTime": (2, 2),
    "coord:dateOffset": (3, 3), "coord:dateTzOffset": (2, 2), "coord:epochTime": (2, 2), "coord:current": (1, 1),
    "coord:user": (0, 0), "coord:minutes": (1, 1), "coord:hours": (1, 1), "coord:days": (1, 1),
}

# functions with no equivalent on either target, and why
_UNSUPPORTED: dict[str, str] = {
    "wf:transition": "Airflow and Argo do not record which transition a node took",
    "wf:callback": "there is no Oozie callback URL outside Oozie",
    "wf:actionExternalId": "the Hadoop job id of an action has no equivalent",
    "wf:actionTrackerUri": "the Hadoop job tracker URL has no equivalent",
    "hadoop:counters": "Hadoop counters do not exist for Spark on Kubernetes",
    "hadoop:conf": "Hadoop configuration lookups are not available at run time",
    "coord:dataIn": "dataset URIs are resolved by Oozie's input dependency check, which is not migrated",
    "coord:dataOut": "dataset URIs are resolved by Oozie's output events, which are not migrated",
    "coord:latest": "coord:latest waits for the newest available dataset instance; no equivalent",
    "coord:future": "coord:future waits for future dataset instances; no equivalent",
    "coord:offset": "coord:offset instance arithmetic is not migrated",
    "coord:absolute": "coord:absolute instance ranges are not migrated",
    "coord:version": "async dataset versions are not migrated",
    "coord:months": "coord:months is a frequency, not a value",
    "coord:endOfDays": "coord:endOfDays is a frequency, not a value",
    "coord:endOfWeeks": "coord:endOfWeeks is a frequency, not a value",
    "coord:endOfMonths": "coord:endOfMonths is a frequency, not a value",
    "coord:hoursInDay": "coord:hoursInDay is not migrated",
    "coord:daysInMonth": "coord:daysInMonth is not migrated",
    "coord:tzOffset": "coord:tzOffset is not migrated",
}
_UNSUPPORTED_PREFIXES = {"fs": "HDFS file-system checks run against a cluster that is not there at run time",
                         "hcat": "HCatalog lookups have no equivalent"}

_CONSTANTS = {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4, "PB": 1024 ** 5,
              "MINUTES": 1, "HOURS": 60, "DAYS": 1440}
_FREQUENCY_MINUTES = {"coord:minutes": 1, "coord:hours": 60, "coord:days": 1440}


class Emitter:
    """Target-independent walk over the AST; subclasses supply the target's code for each construct."""

    def __init__(self, ctx: ElContext, source: Source, element: str) -> None:
        self.ctx = ctx
        self.source = source
        self.element = element
        self.issues: list[Issue] = []

    # -- reporting

    def approximated(self, message: str) -> None:
        issue = Issue("approximated", message, self.source, self.element)
        if issue not in self.issues:
            self.issues.append(issue)

    def unsupported(self, piece: _El, reason: str) -> None:
        self.issues.append(Issue("unsupported", f"{piece.text}: {reason}", self.source, self.element))

    # -- pieces

    def text_piece(self, piece: str | _El) -> str:
        if isinstance(piece, str):
            return self.escape(piece)
        value = self.value_of(piece)
        if value is None:
            return self.escape(marker(piece.text))
        if value.is_const:
            return self.escape(_el_string(value.const))
        return self.render(value)

    def value_of(self, piece: _El) -> Value | None:
        """The piece's value, or None (with an issue recorded) when it cannot be translated."""
        if piece.node is None:
            return None
        mark = len(self.issues)
        try:
            return self.expr(piece.node)
        except Unsupported as reason:
            del self.issues[mark:]  # approximations inside a dropped expression do not apply
            self.unsupported(piece, str(reason))
            return None

    def condition(self, pieces: list[str | _El]) -> str:
        """A boolean expression: one ``${...}`` (the usual predicate) or literal text equal to "true"."""
        values: list[Value] = []
        for piece in pieces:
            mark = len(self.issues)
            value = Value(self.literal(piece), "str", const=piece, is_const=True) if isinstance(piece, str) \
                else self.value_of(piece)
            if value is None:
                if len(self.issues) > mark:
                    self.issues[-1] = _as_condition_issue(self.issues[-1], self.false())
                return self.false()
            values.append(value)
        if not values:
            return self.false()
        if len(values) == 1:
            return self.bool_condition(values[0])
        return self.bool_condition(self.join(values))

    # -- the AST walk

    def expr(self, node: Node) -> Value:
        if isinstance(node, Lit):
            return Value(self.literal(node.value), _lit_type(node.value), const=node.value, is_const=True)
        if isinstance(node, Prop):
            return self.prop(node.name)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Unary):
            operand = self.expr(node.operand)
            if node.op == "-" and operand.is_const and _is_number(operand.const):
                return self.expr(Lit(-operand.const))  # type: ignore[operator]
            return self.unary(node.op, operand)
        if isinstance(node, Binary):
            return self.binary(node.op, self.expr(node.left), self.expr(node.right))
        return self.ternary(self.expr(node.test), self.expr(node.then), self.expr(node.other))

    def prop(self, name: str) -> Value:
        if name in self.ctx.parameters:
            return self.parameter(self.ctx.parameters[name])
        if name in _CONSTANTS:
            return self.expr(Lit(_CONSTANTS[name]))
        raise Unsupported(f"property {name!r} is not defined (job.properties, config-default.xml or <parameters>)")

    def call(self, node: Call) -> Value:
        name = node.name
        prefix = name.split(":", 1)[0] if ":" in name else ""
        if name in _UNSUPPORTED:
            raise Unsupported(f"EL function {name} is not supported: {_UNSUPPORTED[name]}")
        if prefix in _UNSUPPORTED_PREFIXES:
            raise Unsupported(f"EL function {name} is not supported: {_UNSUPPORTED_PREFIXES[prefix]}")
        if name not in _ARITY:
            raise Unsupported(f"EL function {name} is not supported (unknown function)")
        low, high = _ARITY[name]
        if not low <= len(node.args) <= high:
            raise Unsupported(f"EL function {name} takes {low if low == high else f'{low}-{high}'} argument(s), "
                              f"got {len(node.args)}")
        if prefix == "coord" and not self.ctx.coordinator:
            raise Unsupported(f"EL function {name} is only available in a coordinator")
        handler = getattr(self, "fn_" + re.sub(r"[^A-Za-z]", "_", name))
        return handler(*node.args)

    # -- functions resolved the same way on both targets

    def fn_wf_name(self) -> Value:
        return self.expr(Lit(self.ctx.app_name))

    def fn_wf_conf(self, key: Node) -> Value:
        return self.prop(self.literal_arg(key, "wf:conf"))

    def fn_wf_user(self) -> Value:
        if USER_PROPERTY in self.ctx.parameters:
            return self.prop(USER_PROPERTY)
        return self.user_fallback()

    fn_coord_user = fn_wf_user

    def fn_wf_group(self) -> Value:
        if "group.name" in self.ctx.parameters:
            return self.prop("group.name")
        self.approximated("wf:group(): no group is known outside Oozie; translated as an empty string")
        return self.expr(Lit(""))

    def fn_wf_appPath(self) -> Value:  # noqa: N802 - named after the EL function
        if APP_PATH_PROPERTY in self.ctx.parameters:
            return self.prop(APP_PATH_PROPERTY)
        return self.app_path_fallback()

    def _frequency(self, node: Node, unit: str) -> Value:
        return self.binary("*", self.expr(node), self.expr(Lit(_FREQUENCY_MINUTES[unit])))

    def fn_coord_minutes(self, n: Node) -> Value:
        return self._frequency(n, "coord:minutes")

    def fn_coord_hours(self, n: Node) -> Value:
        return self._frequency(n, "coord:hours")

    def fn_coord_days(self, n: Node) -> Value:
        return self._frequency(n, "coord:days")

    def fn_wf_actionData(self, node: Node) -> Value:  # noqa: N802
        return self.action_data(self.task_of(node, "wf:actionData", capture=True), None)

    def index(self, node: Index) -> Value:
        target = node.target
        if isinstance(target, Call) and target.name == "wf:actionData" and len(target.args) == 1:
            return self.action_data(self.task_of(target.args[0], "wf:actionData", capture=True), node.key)
        return self.subscript(self.expr(target), self.expr(node.key))

    def literal_arg(self, node: Node, function: str) -> str:
        if not isinstance(node, Lit) or not isinstance(node.value, str):
            raise Unsupported(f"{function} needs a string literal argument here")
        return node.value

    def task_of(self, node: Node, function: str, *, capture: bool = False) -> str:
        """The target task name of a node given as a literal node name."""
        name = self.literal_arg(node, function)
        if name not in self.ctx.task_ids:
            raise Unsupported(f"{function}: {name!r} is not a node of this workflow")
        if capture and self.ctx.capture_nodes is not None and name not in self.ctx.capture_nodes:
            raise Unsupported(f"{function}: action {name!r} has no <capture-output/>")
        return self.ctx.task_ids[name]

    def folded(self, op: str, left: Value, right: Value) -> Value | None:
        """Constant folding for literal-only arithmetic (``${10 * GB}`` is a number at conversion time)."""
        if not (left.is_const and right.is_const and _is_number(left.const) and _is_number(right.const)):
            return None
        arithmetic = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
        if op not in arithmetic or (op == "/" and not right.const):
            return None
        return self.expr(Lit(arithmetic[op](left.const, right.const)))

    # -- per-target hooks (see subclasses)

    def escape(self, literal: str) -> str:
        raise NotImplementedError

    def literal(self, value: object) -> str:
        raise NotImplementedError

    def render(self, value: Value) -> str:
        raise NotImplementedError

    def false(self) -> str:
        raise NotImplementedError

    def bool_condition(self, value: Value) -> str:
        raise NotImplementedError

    def join(self, values: list[Value]) -> Value:
        raise NotImplementedError

    def parameter(self, reference: str) -> Value:
        raise NotImplementedError

    def unary(self, op: str, operand: Value) -> Value:
        raise NotImplementedError

    def binary(self, op: str, left: Value, right: Value) -> Value:
        raise NotImplementedError

    def ternary(self, test: Value, then: Value, other: Value) -> Value:
        raise NotImplementedError

    def subscript(self, target: Value, key: Value) -> Value:
        raise NotImplementedError

    def action_data(self, task: str, key: Node | None) -> Value:
        raise NotImplementedError

    def user_fallback(self) -> Value:
        raise NotImplementedError

    def app_path_fallback(self) -> Value:
        raise NotImplementedError


def _lit_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return "num" if isinstance(value, int | float) else "str"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _el_string(value: object) -> str:
    """How EL prints a value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_condition_issue(issue: Issue, false: str) -> Issue:
    if issue.level == "error":
        return Issue("error", f"{issue.message}; the condition is translated as {false}", issue.source,
                     issue.element)
    return Issue(issue.level, f"{issue.message}; the condition is translated as {false} (this case never matches)",
                 issue.source, issue.element)


def _quote(text: str) -> str:
    """A single-quoted string literal valid in Jinja and in expr-lang."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t")
    return f"'{escaped}'"


# ------------------------------------------------------------------------------------------ Airflow (Jinja)

_JINJA_OPEN = re.compile(r"\{\{|\{%|\{#")


class AirflowEmitter(Emitter):
    """Jinja expressions; helpers from the ``oozie`` macro namespace (runtime.MACROS)."""

    def escape(self, literal: str) -> str:
        return _JINJA_OPEN.sub(lambda match: "{{ '" + match.group(0) + "' }}", literal)

    def literal(self, value: object) -> str:
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        return repr(value) if _is_number(value) else _quote(str(value))

    def render(self, value: Value) -> str:
        if value.type == "str" or value.type == "num":
            return "{{ " + value.code + " }}"
        return "{{ " + self.to_str(value).code + " }}"

    def false(self) -> str:
        return "False"

    def bool_condition(self, value: Value) -> str:
        if value.is_const:
            return "True" if _el_string(value.const).lower() == "true" else "False"
        return self.to_bool(value).code

    def join(self, values: list[Value]) -> Value:
        return Value("(" + " ~ ".join(self.to_str(value).code for value in values) + ")", "str")

    # coercions, as EL does them

    def to_num(self, value: Value) -> Value:
        return value if value.type == "num" else Value(f"oozie.num({value.code})", "num")

    def to_bool(self, value: Value) -> Value:
        return value if value.type == "bool" else Value(f"oozie.to_bool({value.code})", "bool")

    def to_str(self, value: Value) -> Value:
        if value.type == "str":
            return value
        if value.is_const:
            return Value(_quote(_el_string(value.const)), "str")
        return Value(f"oozie.to_str({value.code})", "str")

    def helper(self, name: str, *args: Value, result: str = "str") -> Value:
        return Value(f"oozie.{name}({', '.join(arg.code for arg in args)})", result)

    def parameter(self, reference: str) -> Value:
        return Value(reference, "str")

    def unary(self, op: str, operand: Value) -> Value:
        if op == "-":
            return Value(f"(-{self.to_num(operand).code})", "num")
        if op == "!":
            return Value(f"(not {self.to_bool(operand).code})", "bool")
        return self.helper("empty", operand, result="bool")

    def binary(self, op: str, left: Value, right: Value) -> Value:
        if folded := self.folded(op, left, right):
            return folded
        if op in ("&&", "||"):
            word = "and" if op == "&&" else "or"
            return Value(f"({self.to_bool(left).code} {word} {self.to_bool(right).code})", "bool")
        if op in ("+", "-", "*", "/", "%"):
            return Value(f"({self.to_num(left).code} {op} {self.to_num(right).code})", "num")
        left, right = _comparable(self, op, left, right)
        return Value(f"({left.code} {op} {right.code})", "bool")

    def ternary(self, test: Value, then: Value, other: Value) -> Value:
        kind = then.type if then.type == other.type else "any"
        return Value(f"({then.code} if {self.to_bool(test).code} else {other.code})", kind)

    def subscript(self, target: Value, key: Value) -> Value:
        if target.type not in ("map", "any"):
            raise Unsupported("only maps (wf:actionData) can be indexed")
        return Value(f"{target.code}[{key.code}]", "any")

    def action_data(self, task: str, key: Node | None) -> Value:
        data = f"(ti.xcom_pull(task_ids={_quote(task)}) or {{}})"
        if key is None:
            return Value(data, "map")
        # .get: Airflow renders with StrictUndefined, and Oozie gives null for a missing key
        return Value(f"{data}.get({self.to_str(self.expr(key)).code})", "any")

    def user_fallback(self) -> Value:
        self.approximated("wf:user(): property user.name is not defined; translated as the DAG owner")
        return Value("dag.owner", "str")

    def app_path_fallback(self) -> Value:
        self.approximated("wf:appPath(): oozie.wf.application.path is not defined; translated as the DAG file")
        return Value("dag.fileloc", "str")

    # wf: functions

    def fn_wf_id(self) -> Value:
        return Value("run_id", "str")

    def fn_wf_run(self) -> Value:
        self.approximated("wf:run(): Oozie counts workflow reruns; translated as the task's retry number "
                          "(ti.try_number - 1)")
        return Value("(ti.try_number - 1)", "num")

    def fn_wf_lastErrorNode(self) -> Value:  # noqa: N802
        self.approximated("wf:lastErrorNode() gives the task id of the last failed task")
        return Value("oozie.last_error_node(dag_run, ti)", "str")

    def _node_task(self, node: Node, function: str) -> Value:
        if isinstance(node, Call) and node.name == "wf:lastErrorNode":
            return self.expr(node)
        return self.expr(Lit(self.task_of(node, function)))

    def fn_wf_errorMessage(self, node: Node) -> Value:  # noqa: N802
        self.approximated("wf:errorMessage(): Airflow does not keep the error text; the message names the "
                          "failed task (its log has the cause)")
        return Value(f"oozie.error_message(dag_run, {self._node_task(node, 'wf:errorMessage').code}, ti)", "str")

    def fn_wf_errorCode(self, node: Node) -> Value:  # noqa: N802
        self.approximated("wf:errorCode(): Airflow has no error codes; gives FAILED for a failed task")
        return Value(f"oozie.error_code(dag_run, {self._node_task(node, 'wf:errorCode').code}, ti)", "str")

    def fn_wf_actionExternalStatus(self, node: Node) -> Value:  # noqa: N802
        self.approximated("wf:actionExternalStatus(): gives the Airflow task state in upper case")
        return Value(f"oozie.task_state(dag_run, {self._node_task(node, 'wf:actionExternalStatus').code}, ti)",
                     "str")

    # basic functions

    def fn_concat(self, a: Node, b: Node) -> Value:
        return self.helper("concat", self.expr(a), self.expr(b))

    def fn_trim(self, a: Node) -> Value:
        return self.helper("trim", self.expr(a))

    def fn_replaceAll(self, src: Node, regex: Node, replacement: Node) -> Value:  # noqa: N802
        _check_java_regex(self, regex, "Python re")
        return self.helper("replace_all", self.expr(src), self.to_str(self.expr(regex)), self.expr(replacement),
                           result="any")

    def fn_appendAll(self, src: Node, append: Node, delimiter: Node) -> Value:  # noqa: N802
        return self.helper("append_all", self.expr(src), self.expr(append), self.to_str(self.expr(delimiter)),
                           result="any")

    def fn_firstNotNull(self, a: Node, b: Node) -> Value:  # noqa: N802
        first, second = self.expr(a), self.expr(b)
        return self.helper("first_not_null", first, second, result=first.type if first.type == second.type
                           else "any")

    def fn_urlEncode(self, a: Node) -> Value:  # noqa: N802
        return self.helper("url_encode", self.expr(a))

    def fn_timestamp(self) -> Value:
        return self.helper("timestamp")

    def fn_toJsonStr(self, a: Node) -> Value:  # noqa: N802
        return self.helper("to_json_str", self.expr(a))

    def fn_toPropertiesStr(self, a: Node) -> Value:  # noqa: N802
        return self.helper("to_properties_str", self.expr(a))

    def fn_toConfigurationStr(self, a: Node) -> Value:  # noqa: N802
        return self.helper("to_configuration_str", self.expr(a))

    # coord: functions (times are Oozie-format strings at run time)

    def fn_coord_nominalTime(self) -> Value:  # noqa: N802
        return Value("oozie.nominal_time(logical_date or dag_run.run_after)", "str")

    def fn_coord_actualTime(self) -> Value:  # noqa: N802
        return Value("oozie.oozie_time(dag_run.start_date)", "str")

    def fn_coord_formatTime(self, ts: Node, pattern: Node) -> Value:  # noqa: N802
        if isinstance(pattern, Lit) and isinstance(pattern.value, str):
            try:
                java_pattern_tokens(pattern.value)
            except ValueError as error:
                raise Unsupported(f"coord:formatTime: {error}") from None
        return self.helper("format_time", self.expr(ts), self.to_str(self.expr(pattern)))

    def fn_coord_dateOffset(self, ts: Node, n: Node, unit: Node) -> Value:  # noqa: N802
        return self.helper("date_offset", self.expr(ts), self.expr(n), self.to_str(self.expr(unit)))

    def fn_coord_dateTzOffset(self, ts: Node, tz: Node) -> Value:  # noqa: N802
        return self.helper("date_tz_offset", self.expr(ts), self.to_str(self.expr(tz)))

    def fn_coord_epochTime(self, ts: Node, millis: Node) -> Value:  # noqa: N802
        return self.helper("epoch_time", self.expr(ts), self.expr(millis))

    def fn_coord_current(self, n: Node) -> Value:
        dataset = _current_dataset(self.ctx)
        args = [self.fn_coord_nominalTime(), self.to_num(self.expr(n)), self.expr(Lit(dataset.initial_instance)),
                self.expr(Lit(dataset.frequency.amount)), self.expr(Lit(dataset.frequency.unit)),
                self.expr(Lit(dataset.timezone))]
        return self.helper("dataset_instance", *args)


def _current_dataset(ctx: ElContext) -> Dataset:
    dataset = ctx.dataset
    if dataset is None:
        raise Unsupported("coord:current needs the dataset it counts instances of (only in data-in/data-out)")
    if dataset.frequency.unit not in ("minutes", "months"):
        raise Unsupported(f"coord:current over a {dataset.frequency.unit} dataset frequency is not migrated")
    return dataset


def _comparable(emitter: AirflowEmitter | ArgoEmitter, op: str, left: Value, right: Value) -> tuple[Value, Value]:
    """EL's comparison coercion: numbers if either side is a number, booleans for == with a boolean."""
    if "num" in (left.type, right.type):
        return emitter.to_num(left), emitter.to_num(right)
    if op in ("==", "!=") and "bool" in (left.type, right.type):
        return emitter.to_bool(left), emitter.to_bool(right)
    if op in ("==", "!=") and "null" in (left.type, right.type):
        return left, right
    return emitter.to_str(left), emitter.to_str(right)


_JAVA_ONLY_REGEX = re.compile(r"\\[pPQEGZz]|[*+?}][+]|\(\?<[=!]|\\h")


def _check_java_regex(emitter: Emitter, regex: Node, engine: str) -> None:
    """Flag a Java regex that may behave differently in the target's engine."""
    if not isinstance(regex, Lit):
        emitter.approximated(f"replaceAll: the regular expression is computed at run time and runs with {engine} "
                             "instead of java.util.regex")
    elif _JAVA_ONLY_REGEX.search(str(regex.value)) or engine == "Go RE2":
        emitter.approximated(f"replaceAll: the Java regular expression {regex.value!r} runs with {engine}, "
                             "which differs for some constructs")


# ------------------------------------------------------------------------------------------ Argo

_GO_LAYOUT = {"yyyy": "2006", "yy": "06", "MMMM": "January", "MMM": "Jan", "MM": "01", "M": "1", "dd": "02",
              "d": "2", "HH": "15", "hh": "03", "h": "3", "mm": "04", "m": "4", "ss": "05", "s": "5",
              "EEEE": "Monday", "EEE": "Mon", "E": "Mon", "a": "PM", "z": "MST", "Z": "-0700", "X": "Z07",
              "XX": "Z0700", "XXX": "Z07:00", "DDD": "002"}
_GO_LITERAL_HAZARD = re.compile(r"[0-9]|Jan|Mon|MST|PM|pm|Z0|Z07|_")
_OOZIE_GO_LAYOUT = "2006-01-02T15:04Z"
_RFC3339 = "2006-01-02T15:04:05Z07:00"
_SIMPLE_PARAMETER = re.compile(r"^(workflow\.parameters|inputs\.parameters)\.(.+)$")
_TASK_OUTPUT = re.compile(r"^(tasks|steps)\.([^.]+)\.outputs\.parameters\.(.+)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def java_to_go_layout(pattern: str) -> str:
    """A java.text.SimpleDateFormat pattern as a Go time layout; ValueError for what Go cannot express."""
    parts: list[str] = []
    for kind, text in java_pattern_tokens(pattern):
        if kind == "literal":
            if _GO_LITERAL_HAZARD.search(text):
                raise ValueError(f"literal {text!r} in date pattern {pattern!r} would be read as a Go layout element")
            parts.append(text)
        elif text.startswith("S"):
            if not parts or not parts[-1].endswith((".", ",")):
                raise ValueError(f"{text} (milliseconds) in {pattern!r} must follow '.' or ',' for Go")
            parts.append("0" * len(text))
        elif text.startswith("y") and len(text) != 2:
            parts.append("2006")
        elif text in _GO_LAYOUT:
            parts.append(_GO_LAYOUT[text])
        elif text[0] in "MEd" and len(text) > 4:
            parts.append(_GO_LAYOUT[text[0] * 4 if text[0] != "d" else "dd"])
        else:
            raise ValueError(f"{text!r} in date pattern {pattern!r} has no Go layout equivalent")
    return "".join(parts)


def argo_accessor(tag: str) -> str:
    """An Argo tag body (``workflow.parameters.user-name``) as an expr-lang accessor."""
    if match := _SIMPLE_PARAMETER.match(tag):
        return f"{match.group(1)}[{_quote(match.group(2))}]"
    if match := _TASK_OUTPUT.match(tag):
        return f"{match.group(1)}[{_quote(match.group(2))}].outputs.parameters[{_quote(match.group(3))}]"
    head, *rest = tag.split(".")
    return head + "".join(f".{part}" if _IDENTIFIER.match(part) else f"[{_quote(part)}]" for part in rest)


class ArgoEmitter(Emitter):
    """Argo template tags; expressions are expr-lang inside ``{{=...}}``."""

    def escape(self, literal: str) -> str:
        return literal.replace("{{", "{{='{{'}}")

    def literal(self, value: object) -> str:
        if value is None:
            return "nil"
        if isinstance(value, bool):
            return "true" if value else "false"
        return repr(value) if _is_number(value) else _quote(str(value))

    def expression_tag(self, code: str) -> str:
        if "}}" in code:
            raise Unsupported("'}}' inside an Argo expression tag would end the tag")
        return "{{=" + code + "}}"

    def render(self, value: Value) -> str:
        if value.tag is not None:
            return "{{" + value.tag + "}}"
        return self.expression_tag(self.to_str(value).code if value.type in ("time", "null") else value.code)

    def false(self) -> str:
        return "false"

    def bool_condition(self, value: Value) -> str:
        """A govaluate ``when``: comparisons of one tag with a literal stay readable; anything else is an
        expression tag (substituted to true/false before govaluate sees it)."""
        if value.is_const:
            return "true" if _el_string(value.const).lower() == "true" else "false"
        if value.tag is not None:
            return f"'{{{{{value.tag}}}}}' == 'true'"
        simple = _simple_comparison(value)
        if simple is not None:
            return simple
        return self.expression_tag(self.to_bool(value).code)

    def join(self, values: list[Value]) -> Value:
        return Value("(" + " + ".join(self.to_str(value).code for value in values) + ")", "str")

    # coercions

    def to_num(self, value: Value) -> Value:
        if value.type == "num":
            return value
        if value.type == "str":
            return Value(f"asFloat({value.code})", "num")
        if value.type == "null":
            return Value("0", "num")
        raise Unsupported(f"a {value.type} value cannot be used as a number in an Argo expression")

    def to_bool(self, value: Value) -> Value:
        if value.type == "bool":
            return value
        return Value(f"(sprig.lower({self.to_str(value).code}) == 'true')", "bool")

    def to_str(self, value: Value) -> Value:
        if value.type == "str":
            return value
        if value.is_const:
            return Value(_quote(_el_string(value.const)), "str")
        if value.type == "time":
            return Value(f"sprig.dateInZone({_quote(_OOZIE_GO_LAYOUT)}, {value.code}, 'UTC')", "str")
        if value.type == "bool":
            return Value(f"({value.code} ? 'true' : 'false')", "str")
        return Value(f"string({value.code})", "str")

    def to_time(self, value: Value) -> Value:
        if value.type == "time":
            return value
        if value.type != "str":
            raise Unsupported(f"a {value.type} value is not a time")
        # Oozie times end in Z (UTC) or carry an offset; Go's Z07:00 accepts both
        return Value(f"sprig.toDate('2006-01-02T15:04Z07:00', {value.code})", "time")

    def parameter(self, reference: str) -> Value:
        return Value(argo_accessor(reference), "str", tag=reference)

    def unary(self, op: str, operand: Value) -> Value:
        if op == "-":
            return Value(f"(-{self.to_num(operand).code})", "num")
        if op == "!":
            return Value(f"!{self.to_bool(operand).code}", "bool")
        if operand.type == "null":
            return Value("true", "bool")
        return Value(f"({self.to_str(operand).code} == '')", "bool")

    def binary(self, op: str, left: Value, right: Value) -> Value:
        if folded := self.folded(op, left, right):
            return folded
        if op in ("&&", "||"):
            return Value(f"({self.to_bool(left).code} {op} {self.to_bool(right).code})", "bool")
        if op == "%":  # expr-lang's % needs integers
            return Value(f"(asInt({self.to_str(left).code}) % asInt({self.to_str(right).code}))", "num")
        if op in ("+", "-", "*", "/"):
            return Value(f"({self.to_num(left).code} {op} {self.to_num(right).code})", "num")
        left, right = _comparable(self, op, left, right)
        return Value(f"({left.code} {op} {right.code})", "bool", const=(op, left, right))

    def ternary(self, test: Value, then: Value, other: Value) -> Value:
        if then.type != other.type:
            then, other = self.to_str(then), self.to_str(other)
        return Value(f"({self.to_bool(test).code} ? {then.code} : {other.code})", then.type)

    def subscript(self, target: Value, key: Value) -> Value:
        raise Unsupported("indexing is only translated for wf:actionData('node')['key'] on Argo")

    def action_data(self, task: str, key: Node | None) -> Value:
        if key is None or not isinstance(key, Lit) or not isinstance(key.value, str):
            raise Unsupported("Argo needs wf:actionData('node')['key'] with a literal key (an output parameter)")
        tag = f"tasks.{task}.outputs.parameters.{key.value}"
        return Value(argo_accessor(tag), "str", tag=tag)

    def user_fallback(self) -> Value:
        self.approximated("wf:user(): property user.name is not defined; translated as the workflow's "
                          "service account")
        return Value("workflow.serviceAccountName", "str", tag="workflow.serviceAccountName")

    def app_path_fallback(self) -> Value:
        self.approximated("wf:appPath(): oozie.wf.application.path is not defined; translated as the "
                          "WorkflowTemplate name")
        tag = "workflow.labels.workflows.argoproj.io/workflow-template"
        return Value("workflow.labels['workflows.argoproj.io/workflow-template']", "str", tag=tag)

    # wf: functions

    def fn_wf_id(self) -> Value:
        return Value("workflow.name", "str", tag="workflow.name")

    def fn_wf_run(self) -> Value:
        self.approximated("wf:run(): Argo workflows are not rerun in place; translated as 0")
        return self.expr(Lit(0))

    def _failures(self, function: str) -> None:
        self.approximated(f"{function}: read from workflow.failures, which Argo only provides in the exit "
                          "handler (onExit)")

    def fn_wf_lastErrorNode(self) -> Value:  # noqa: N802
        self._failures("wf:lastErrorNode()")
        return Value("last(jsonpath(workflow.failures, '$[*].displayName'))", "any")

    def _failure_field(self, node: Node, function: str, field_name: str) -> Value:
        self._failures(function)
        if isinstance(node, Call) and node.name == "wf:lastErrorNode":
            return Value(f"last(jsonpath(workflow.failures, '$[*].{field_name}'))", "any")
        task = self.task_of(node, function)
        return Value(f"last(jsonpath(workflow.failures, \"$[?(@.displayName=='{task}')].{field_name}\"))", "any")

    def fn_wf_errorMessage(self, node: Node) -> Value:  # noqa: N802
        return self._failure_field(node, "wf:errorMessage()", "message")

    def fn_wf_errorCode(self, node: Node) -> Value:  # noqa: N802
        self.approximated("wf:errorCode(): Argo has no error codes; gives the failed node's phase")
        return self._failure_field(node, "wf:errorCode()", "phase")

    def fn_wf_actionExternalStatus(self, node: Node) -> Value:  # noqa: N802
        self.approximated("wf:actionExternalStatus(): gives the Argo task status")
        tag = f"tasks.{self.task_of(node, 'wf:actionExternalStatus')}.status"
        return Value(argo_accessor(tag), "str", tag=tag)

    # basic functions

    def fn_concat(self, a: Node, b: Node) -> Value:
        return Value(f"({self.to_str(self.expr(a)).code} + {self.to_str(self.expr(b)).code})", "str")

    def fn_trim(self, a: Node) -> Value:
        return Value(f"sprig.trim({self.to_str(self.expr(a)).code})", "str")

    def fn_replaceAll(self, src: Node, regex: Node, replacement: Node) -> Value:  # noqa: N802
        _check_java_regex(self, regex, "Go RE2")
        repl = self.expr(replacement)
        if repl.is_const:  # Java's $1 is ${1} in Go ($1x would name group "1x")
            repl = self.expr(Lit(re.sub(r"\$(\d+)", r"${\1}", _el_string(repl.const))))
        args = (self.to_str(self.expr(regex)), self.to_str(self.expr(src)), self.to_str(repl))
        return Value(f"sprig.regexReplaceAll({', '.join(arg.code for arg in args)})", "str")

    def fn_appendAll(self, src: Node, append: Node, delimiter: Node) -> Value:  # noqa: N802
        source, suffix = self.to_str(self.expr(src)), self.to_str(self.expr(append))
        separator = self.to_str(self.expr(delimiter))
        return Value(f"join(map(split({source.code}, {separator.code}), {{# + {suffix.code}}}), {separator.code})",
                     "str")

    def fn_firstNotNull(self, a: Node, b: Node) -> Value:  # noqa: N802
        first, second = self.expr(a), self.expr(b)
        if first.type != second.type:
            first, second = self.to_str(first), self.to_str(second)
        return Value(f"({first.code} != nil ? {first.code} : {second.code})", first.type)

    def fn_urlEncode(self, a: Node) -> Value:  # noqa: N802
        self.approximated("urlEncode: Go's query escaping differs from Java's for '*' and '~'")
        return Value(f"sprig.urlquery({self.to_str(self.expr(a)).code})", "str")

    def fn_timestamp(self) -> Value:
        return Value("sprig.dateInZone('2006-01-02T15:04:05.000Z', sprig.now(), 'UTC')", "str")

    def fn_toJsonStr(self, a: Node) -> Value:  # noqa: N802
        raise Unsupported("toJsonStr needs a map, which Argo parameters are not")

    fn_toPropertiesStr = fn_toJsonStr
    fn_toConfigurationStr = fn_toJsonStr

    # coord: functions (times are Go time values inside expressions)

    def fn_coord_nominalTime(self) -> Value:  # noqa: N802
        return Value(f"sprig.toDate({_quote(_RFC3339)}, workflow.scheduledTime)", "time")

    def fn_coord_actualTime(self) -> Value:  # noqa: N802
        return Value(f"sprig.toDate({_quote(_RFC3339)}, workflow.creationTimestamp)", "time")

    def fn_coord_formatTime(self, ts: Node, pattern: Node) -> Value:  # noqa: N802
        java = self.literal_arg(pattern, "coord:formatTime")
        try:
            layout = java_to_go_layout(java)
        except ValueError as error:
            raise Unsupported(f"coord:formatTime: {error}") from None
        return Value(f"sprig.dateInZone({_quote(layout)}, {self.to_time(self.expr(ts)).code}, 'UTC')", "str")

    def fn_coord_dateOffset(self, ts: Node, n: Node, unit: Node) -> Value:  # noqa: N802
        base = self.to_time(self.expr(ts))
        amount = self.expr(n)
        unit_name = self.literal_arg(unit, "coord:dateOffset").upper()
        count = f"asInt({self.to_str(amount).code})" if amount.type != "num" else amount.code
        minutes = {"MINUTE": 1, "HOUR": 60, "DAY": 1440, "WEEK": 10080}
        if unit_name in minutes:
            return _date_modify(base, amount, count, minutes[unit_name])
        if unit_name in ("MONTH", "YEAR"):
            self.approximated("coord:dateOffset in months/years: Go normalises Jan 31 + 1 month to Mar 3 where "
                              "Java clamps to Feb 28")
            months = count if unit_name == "MONTH" else f"{count} * 12"
            return Value(f"{base.code}.AddDate(0, {months}, 0)", "time")
        raise Unsupported(f"coord:dateOffset: unknown unit {unit_name!r}")

    def fn_coord_dateTzOffset(self, ts: Node, tz: Node) -> Value:  # noqa: N802
        zone = self.to_str(self.expr(tz))
        # the wall time in the zone, written with 'Z': exactly Oozie's shifted value
        return Value(f"sprig.dateInZone({_quote(_OOZIE_GO_LAYOUT)}, {self.to_time(self.expr(ts)).code}, "
                     f"{zone.code})", "str")

    def fn_coord_epochTime(self, ts: Node, millis: Node) -> Value:  # noqa: N802
        flag = self.expr(millis)
        base = self.to_time(self.expr(ts)).code
        return Value(f"({self.to_bool(flag).code} ? {base}.UnixMilli() : {base}.Unix())", "num")

    def fn_coord_current(self, n: Node) -> Value:
        dataset = _current_dataset(self.ctx)
        amount = self.to_num(self.expr(n))
        self.approximated("coord:current(n) on Argo assumes the nominal time is a dataset instance "
                          "(the coordinator and dataset frequencies and starts align)")
        base = self.fn_coord_nominalTime()
        if dataset.frequency.unit == "months":
            return Value(f"{base.code}.AddDate(0, int({amount.code}) * {dataset.frequency.amount}, 0)", "time")
        return _date_modify(base, amount, f"int({amount.code})", dataset.frequency.amount)


def _date_modify(base: Value, amount: Value, count: str, unit_minutes: int) -> Value:
    """``base`` moved by ``amount`` units of ``unit_minutes`` (sprig.dateModify takes a Go duration string)."""
    if amount.is_const and _is_number(amount.const):
        duration = _quote(f"{int(amount.const) * unit_minutes}m")  # type: ignore[call-overload]
    else:
        duration = f"string({count} * {unit_minutes}) + 'm'"
    return Value(f"sprig.dateModify({duration}, {base.code})", "time")


def _simple_comparison(value: Value) -> str | None:
    """``'{{tag}}' == 'literal'`` for a comparison of one tag with a string literal (readable in the manifest)."""
    if not (isinstance(value.const, tuple) and value.const[0] in ("==", "!=")):
        return None
    op, left, right = value.const
    if left.tag is None:
        left, right = right, left
    if left.tag is None or not right.is_const or not isinstance(right.const, str) or "'" in right.const:
        return None
    return f"'{{{{{left.tag}}}}}' {op} {_quote(right.const)}"
