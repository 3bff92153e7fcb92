"""What a reader of the README and the guides in docs/ relies on: the `make` targets and `sparkk8s` command lines
they show exist and parse, their relative links lead to files, and the API reference covers every module the
provider registers. (`make docs`, run by `make test`, builds the guides with warnings as errors.)"""

from __future__ import annotations

import argparse
import re
import shlex
import textwrap
from pathlib import Path

import pytest

from airflow_provider_sparkk8s import get_provider_info
from airflow_provider_sparkk8s.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.M | re.S)  # a Markdown code block
PAGES = [ROOT / "README.md",
         *sorted(p for p in DOCS.rglob("*") if p.suffix in (".md", ".rst") and "_build" not in p.parts)]


def code_of(page: Path) -> list[str]:
    """The code a page shows: its inline literals and the lines of its code blocks, with continuations joined."""
    text = page.read_text()
    if page.suffix == ".md":
        blocks = FENCED.findall(text)
        inline = re.findall(r"`([^`\n]+)`", FENCED.sub("", text))
    else:
        blocks, lines, i = [], text.splitlines(), 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if re.match(r"\s*\.\. code(-block)?::", line) or (line.rstrip().endswith("::")
                                                              and not line.lstrip().startswith("..")):
                indent = len(line) - len(line.lstrip())
                block = []
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i])
                    i += 1
                blocks.append(textwrap.dedent("\n".join(block)))
        inline = re.findall(r"``(.+?)``", text, flags=re.S)
    code_lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [" ".join(piece.split()) for piece in [*code_lines, *inline]]


def commands_in(page: Path, program: str) -> list[list[str]]:
    """The `program` command lines a page shows, as argv lists (shell comments dropped)."""
    found = []
    for code in code_of(page):
        code = code.removeprefix("$ ")
        if code.startswith(program + " "):
            found.append(shlex.split(code, comments=True))
    return found


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):(?!=)", (ROOT / "Makefile").read_text(), flags=re.M))


def test_the_readme_and_every_guide_show_commands():
    # The checks below look at what these helpers find: make sure they find the commands at all.
    assert ["make", "demo"] in commands_in(ROOT / "README.md", "make")
    assert any(argv[:2] == ["sparkk8s", "sandbox"] for argv in commands_in(ROOT / "README.md", "sparkk8s"))
    assert any(argv[:3] == ["sparkk8s", "migrate", "oozie"]
               for argv in commands_in(DOCS / "oozie-migration.rst", "sparkk8s"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_a_page_mentions_exists(page):
    targets = makefile_targets()
    missing = set()
    for argv in commands_in(page, "make"):
        missing |= {word for word in argv[1:] if "=" not in word and not word.startswith("-")} - targets
    assert not missing, f"{page.name} mentions make targets the Makefile does not have: {sorted(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sparkk8s_command_a_page_shows_parses(page):
    parser = build_parser()
    subcommands = _subcommand_paths(parser)
    for argv in commands_in(page, "sparkk8s"):
        args = argv[1:]
        if tuple(args) in subcommands:  # a command named in prose, e.g. `sparkk8s migrate oozie`
            continue
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"{page.name} shows a command sparkk8s does not accept: {shlex.join(argv)}")


def _subcommand_paths(parser: argparse.ArgumentParser) -> set[tuple[str, ...]]:
    """Every sub-command path of the CLI: ("emulator",), ("migrate",), ("migrate", "oozie"), ..."""
    paths: set[tuple[str, ...]] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.add((name,))
                paths |= {(name, *rest) for rest in _subcommand_paths(sub)}
    return paths


def relative_links(page: Path) -> list[str]:
    text = page.read_text()
    if page.suffix == ".md":
        text = re.sub(r"`[^`\n]+`", "", FENCED.sub("", text))  # links, not code
        targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"<([^>\s]+)>", text)
    else:
        targets = re.findall(r"`[^`<]*<([^>`]+)>`__?", text)
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(page):
    broken = [link for link in relative_links(page) if not (page.parent / link).exists()]
    assert not broken, f"{page.name} links to files that do not exist: {broken}"


def test_the_api_reference_documents_every_module_the_provider_registers():
    info = get_provider_info()
    modules = {module for kind in ("operators", "sensors", "hooks", "triggers")
               for entry in info[kind] for module in entry["python-modules"]}
    modules |= {plugin["plugin-class"].rpartition(".")[0] for plugin in info["plugins"]}  # the timetables
    reference = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.rst"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)", reference, flags=re.M))
    assert modules - documented == set()
