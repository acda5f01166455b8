"""Pure pieces of the agent and CLI: outcome parsing, log parsing, run environment,
parameters, and the promise that ``import prefect_storage`` stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from prefect_storage.agent.environment import RunSecretError, resolve_storage_secrets, run_environment
from prefect_storage.agent.execute import OUTCOME_MARKER
from prefect_storage.agent.launcher import outcome_from_output
from prefect_storage.agent.logs import parse_logs
from prefect_storage.cli.runs import parse_params
from prefect_storage.secrets import remember_secret


def test_outcome_line_is_found_among_other_output() -> None:
    stdout = "noise\n" + OUTCOME_MARKER + json.dumps({"state": "Success", "message": "ok", "tasks": [{"name": "t"}]}) + "\n"
    outcome = outcome_from_output(stdout, "logs", 0)
    assert (outcome.state, outcome.message, outcome.tasks, outcome.logs) == ("Success", "ok", [{"name": "t"}], "logs")


def test_no_outcome_line_is_a_crash_naming_the_exit() -> None:
    crashed = outcome_from_output("", "first\nSegmentation fault", -11)
    assert crashed.state == "Failed"
    assert "killed by signal 11 without reporting an outcome" in crashed.message and "Segmentation fault" in crashed.message
    assert "exited with code 3" in outcome_from_output("", "", 3).message


def test_logs_are_parsed_joined_and_redacted() -> None:
    remember_secret("hunter2-secret")
    stderr = (
        "2026-01-02 03:04:05,678 INFO prefect_storage.flow_runner: started with hunter2-secret\n"
        "2026-01-02 03:04:05,900 ERROR prefect_storage.task: boom\n"
        "Traceback (most recent call last):\n"
        "  File x\n"
        "a bare print\n"
    )
    entries = parse_logs(stderr)
    assert [e.level for e in entries] == ["INFO", "ERROR"]
    assert entries[0].message == "started with ***"
    assert entries[1].message.endswith("  File x\na bare print")
    assert parse_logs("just a print\n")[0].name == "flow-run"


def test_run_environment_passes_secrets_the_classic_way(monkeypatch: pytest.MonkeyPatch) -> None:
    env = run_environment(
        {"PATH": "/bin", "PYTHONPATH": "/existing"},
        {"TOKEN": "v"},
        run_env={"A": "1"},
        import_paths=["/extra"],
        context={"flow_run_id": "r1"},
    )
    assert env["PREFECT__CONTEXT__SECRETS__TOKEN"] == "v" and env["A"] == "1"
    assert env["PREFECT__CONTEXT__FLOW_RUN_ID"] == "r1"
    assert env["PYTHONPATH"].split(os.pathsep) == [os.getcwd(), "/existing", "/extra"]


def test_storage_secrets_resolve_or_fail_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_TOKEN_NAME", "value-1234")
    assert resolve_storage_secrets({"secrets": ["SOME_TOKEN_NAME"]}) == {"SOME_TOKEN_NAME": "value-1234"}
    with pytest.raises(RunSecretError, match=r"Failed to load flow secret 'NOT_THERE_X'.*provide the secret to the agent"):
        resolve_storage_secrets({"secrets": ["NOT_THERE_X"]})


def test_params_are_json_decoded_when_they_are_json() -> None:
    assert parse_params(("n=3", "name=ada", "xs=[1, 2]", "flag=true", "empty=")) == {
        "n": 3, "name": "ada", "xs": [1, 2], "flag": True, "empty": "",
    }
    with pytest.raises(click.BadParameter):
        parse_params(("novalue",))


def test_importing_the_package_does_not_import_sqlalchemy_click_or_rich() -> None:
    code = (
        "import sys, prefect_storage, prefect_storage.storage, prefect_storage.agent, prefect_storage.agent.execute\n"
        "from prefect_storage import Flow\n"
        "print(sorted(m for m in ('sqlalchemy', 'click', 'rich', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_runs_template_and_its_registry_client_leave_sqlalchemy_out() -> None:
    # every run is forked from the template: SQLAlchemy in it would double the memory each
    # fork copies; runs reach the registry through the broker with plain records instead
    code = (
        "import sys\n"
        "from prefect_storage.agent import zygote\n"
        "zygote._preload()\n"
        "import prefect_storage.registry.client, prefect_storage.backend, prefect_storage.artifacts\n"
        "import prefect_storage.tasks.prefect\n"
        "from prefect_storage.registry.client import run_registry\n"
        "print(sorted(m for m in ('sqlalchemy', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_registry_package_still_hands_out_every_name() -> None:
    import prefect_storage.registry as registry

    for name in registry.__all__:
        assert getattr(registry, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        registry.Nope  # noqa: B018
