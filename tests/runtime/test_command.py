"""A container's argv as Kubernetes resolves it ("Define a Command and Arguments for a Container"), and the
``$(VAR)`` expansion of env values, command and args."""

from __future__ import annotations

import pytest

from airflow_provider_sparkk8s.testing.runtime import ContainerCreateFailure, container_argv, expand

ENTRYPOINT, CMD = ["/docker-entrypoint.sh"], ["serve", "--port", "80"]


@pytest.mark.parametrize(("container", "argv"), [
    ({}, ["/docker-entrypoint.sh", "serve", "--port", "80"]),  # the image's ENTRYPOINT and CMD
    ({"command": ["sh", "-c"]}, ["sh", "-c"]),  # command overrides ENTRYPOINT and drops CMD
    ({"args": ["once"]}, ["/docker-entrypoint.sh", "once"]),  # args replaces CMD only
    ({"command": ["echo"], "args": ["a", "b"]}, ["echo", "a", "b"]),  # both: the image's are ignored
])
def test_command_and_args_combine_with_the_image_entrypoint_and_cmd(container: dict, argv: list[str]) -> None:
    assert container_argv(container, {}, ENTRYPOINT, CMD) == argv


def test_image_without_entrypoint_runs_its_cmd_or_the_args() -> None:
    assert container_argv({}, {}, cmd=["python3"]) == ["python3"]
    assert container_argv({"args": ["sh", "-c", "true"]}, {}, cmd=["python3"]) == ["sh", "-c", "true"]


def test_nothing_to_run_is_a_create_container_error() -> None:
    with pytest.raises(ContainerCreateFailure, match="no command specified") as failure:
        container_argv({}, {})
    assert failure.value.reason == "CreateContainerError"


def test_commands_mapping_names_the_local_program_for_argv0() -> None:
    commands = {"python": "python3", "/argosay": "/opt/stand-ins/argosay"}
    assert container_argv({"command": ["python", "-c", "1"]}, {}, commands=commands) == ["python3", "-c", "1"]
    assert container_argv({"args": ["echo", "hi"]}, {}, ["/argosay"], commands=commands) == [
        "/opt/stand-ins/argosay", "echo", "hi"]
    assert container_argv({"command": ["sh"]}, {}, commands=commands) == ["sh"]  # not listed: as given


def test_command_and_args_expand_variables_but_not_the_image_entrypoint() -> None:
    env = {"GREETING": "hello", "WHO": "world"}
    container = {"args": ["$(GREETING) $(WHO)", "$$(WHO)", "$(UNSET)", "$WHO"]}
    assert container_argv(container, env, ["$(GREETING)"]) == ["$(GREETING)", "hello world", "$(WHO)",
                                                                "$(UNSET)", "$WHO"]


@pytest.mark.parametrize(("text", "expanded"), [
    ("$(A)", "a"),
    ("x$(A)y$(B)z", "xaybz"),
    ("$$(A)", "$(A)"),  # escaped
    ("$$$(A)", "$a"),  # an escaped $ then a reference
    ("$$", "$"),
    ("$(MISSING)", "$(MISSING)"),  # undefined: left as written
    ("$(A", "$(A"),  # unterminated: left as written
    ("$A $", "$A $"),  # not a reference; a trailing $ stays
    ("$()", "$()"),  # the empty name is not defined
    ("100%$", "100%$"),
])
def test_expansion_follows_kubernetes(text: str, expanded: str) -> None:
    assert expand(text, {"A": "a", "B": "b"}) == expanded


def test_expansion_looks_in_contexts_in_order() -> None:
    assert expand("$(X)-$(Y)", {"X": "first"}, {"X": "second", "Y": "y"}) == "first-y"
