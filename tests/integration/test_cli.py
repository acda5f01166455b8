"""The ``prefect-storage`` CLI (click's CliRunner in-process, real processes where
processes matter), against SQLite and PostgreSQL registries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefect_storage.agent.local import LocalAgent
from prefect_storage.cli.app import cli
from prefect_storage.registry import Registry
from tests.integration.registry_helpers import ROOT, write_flow

pytestmark = pytest.mark.integration

PLAIN_SCRIPT = '''
from prefect_storage import Flow, Parameter, task

@task
def times_ten(n):
    return n * 10

with Flow("plain") as flow:
    times_ten(Parameter("n", default=1))
'''


def invoke(registry_url: str, *args: str):
    result = CliRunner().invoke(cli, ["--registry", registry_url, *args], catch_exceptions=False)
    return result


def _json(result) -> object:
    return json.loads(result.stdout)


def test_register_a_folder_then_skip_unchanged_then_force(registry_url: str, tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN_SCRIPT)
    write_flow(tmp_path, "stored")
    (tmp_path / "sub").mkdir()
    write_flow(tmp_path / "sub", "nested")  # directories expand one level only

    first = invoke(registry_url, "register", "--path", str(tmp_path), "--label", "team-a")
    assert first.exit_code == 0, first.output
    assert first.output.count(" Done") == 2 and "Version: 1" in first.output
    assert "2 registered, 0 skipped, 0 errored" in first.output

    again = invoke(registry_url, "register", "--path", str(tmp_path), "--label", "team-a")
    assert again.output.count("Skipped (metadata unchanged)") == 2
    assert "0 registered, 2 skipped, 0 errored" in again.output

    forced = invoke(registry_url, "register", "--path", str(tmp_path / "plain.py"), "--label", "team-a", "--force")
    assert "Version: 2" in forced.output and "1 registered, 0 skipped, 0 errored" in forced.output

    listed = {f["name"]: f for f in _json(invoke(registry_url, "flows", "ls", "--json"))}
    assert set(listed) == {"plain", "stored"}
    plain = listed["plain"]
    assert plain["version"] == 2 and "team-a" in plain["labels"]
    assert plain["storage"]["type"] == "Local" and plain["storage"]["stored_as_script"] is True
    assert plain["storage"]["path"] == str(tmp_path / "plain.py")
    table = invoke(registry_url, "flows", "ls")
    assert "plain" in table.output and "script" in table.output


def test_register_reports_errors_and_exits_1(registry_url: str, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('cannot import this')\n")
    (tmp_path / "plain.py").write_text(PLAIN_SCRIPT)
    result = invoke(registry_url, "register", "--path", str(tmp_path))
    assert result.exit_code == 1
    assert "cannot import this" in result.output and "1 registered, 0 skipped, 1 errored" in result.output
    missing = invoke(registry_url, "register", "--path", str(tmp_path / "nope.py"))
    assert missing.exit_code == 1 and "Path " in missing.output and "doesn't exist" in missing.output
    unnamed = invoke(registry_url, "register", "--path", str(tmp_path / "plain.py"), "--name", "ghost")
    assert unnamed.exit_code == 1 and "Failed to find the following flows:\n- ghost" in unnamed.output
    assert invoke(registry_url, "register").exit_code == 2


def test_register_a_module_gives_module_storage(registry_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "cli_mod_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flows.py").write_text(PLAIN_SCRIPT)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = invoke(registry_url, "register", "--module", "cli_mod_pkg.flows", "--project", "mods")
    assert result.exit_code == 0, result.output
    (record,) = _json(invoke(registry_url, "flows", "ls", "--json", "--project", "mods"))
    assert record["storage"]["type"] == "Module" and record["storage"]["module"] == "cli_mod_pkg.flows"
    by_attr = invoke(registry_url, "register", "--module", "cli_mod_pkg.flows.flow", "--project", "mods2")
    assert by_attr.exit_code == 0, by_attr.output
    bad = invoke(registry_url, "register", "--module", "cli_mod_pkg.flows.times_ten")
    assert bad.exit_code == 1 and "Expected Module or Flow" in bad.output
    absent = invoke(registry_url, "register", "--module", "no_such_module_xyz")
    assert absent.exit_code == 1 and "No module named 'no_such_module_xyz'" in absent.output


def test_run_agent_runs_ls_logs_and_storage_check(registry_url: str, tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text(PLAIN_SCRIPT)
    assert invoke(registry_url, "register", "--path", str(script)).exit_code == 0

    created = invoke(registry_url, "run", "plain", "--param", "n=7", "--json")
    assert created.exit_code == 0, created.output
    run = _json(created)
    assert run["state"] == "Scheduled" and run["parameters"] == {"n": 7}

    agent = invoke(registry_url, "agent", "local", "--once", "--poll-interval", "0.1")
    assert agent.exit_code == 0 and "executed 1 flow run(s)" in agent.output

    (listed,) = _json(invoke(registry_url, "runs", "ls", "--json"))
    assert listed["id"] == run["id"] and listed["state"] == "Success"
    assert any(t["name"] == "times_ten" and t["state"] == "Success" for t in listed["tasks"])
    assert "Success" in invoke(registry_url, "runs", "ls", "--state", "Success").output

    logs = invoke(registry_url, "runs", "logs", run["id"][:8])
    assert logs.exit_code == 0 and "picked up by" in logs.output and "Flow run finished: Success" in logs.output
    assert any("Success" in e["message"] for e in _json(invoke(registry_url, "runs", "logs", run["id"], "--json")))

    check = invoke(registry_url, "storage", "check", "--json")
    assert check.exit_code == 0 and _json(check)[0]["ok"] is True
    script.unlink()
    failing = invoke(registry_url, "storage", "check")
    assert failing.exit_code == 1 and "FAIL" in failing.output


def test_exit_codes_for_unknown_names_and_bad_parameters(registry_url: str, tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN_SCRIPT)
    invoke(registry_url, "register", "--path", str(tmp_path / "plain.py"))
    missing = invoke(registry_url, "run", "no-such-flow")
    assert missing.exit_code == 3 and "No flow named 'no-such-flow'" in missing.output
    assert invoke(registry_url, "runs", "logs", "0123456789").exit_code == 3
    unknown = invoke(registry_url, "run", "plain", "--param", "m=1")
    assert unknown.exit_code == 2 and "not parameters of flow 'plain'" in unknown.output
    assert invoke(registry_url, "run", "plain", "--param", "no-equals-sign").exit_code == 2


def test_run_wait_follows_the_run_to_its_end(registry_url: str, tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN_SCRIPT)
    invoke(registry_url, "register", "--path", str(tmp_path / "plain.py"))
    agent = LocalAgent(Registry(registry_url), poll_interval=0.1)
    thread = threading.Thread(target=agent.start, daemon=True)
    thread.start()
    try:
        result = invoke(registry_url, "run", "plain", "--wait", "--timeout", "60")
    finally:
        agent.stop()
        thread.join(30)
    assert result.exit_code == 0, result.output
    assert "Success: All reference tasks succeeded." in result.output


def test_unreachable_registry_exits_4(tmp_path: Path) -> None:
    from tests.services._process import free_port

    result = CliRunner().invoke(cli, ["--registry", f"postgresql://nobody@127.0.0.1:{free_port()}/db", "flows", "ls"])
    assert result.exit_code == 4 and "Cannot reach the registry" in result.output


def test_register_watch_re_registers_an_edited_script(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    script = write_flow(tmp_path, "watched")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "prefect_storage.cli", "--registry", url, "register", "--watch", "--path", str(script)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_for_version(url, 1)
        time.sleep(0.1)
        script.write_text(script.read_text().replace("labels=[]", "labels=['edited']"))
        os.utime(script, (time.time() + 5, time.time() + 5))
        _wait_for_version(url, 2)
    finally:
        watcher.terminate()
        watcher.wait(30)
    with Registry(url) as registry:
        assert registry.find_flow("watched").labels == ["edited"]


def _wait_for_version(url: str, version: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Registry(url) as registry:
            if any(f.version == version for f in registry.list_flows(all_versions=True)):
                return
        time.sleep(0.2)
    raise AssertionError(f"version {version} was never registered")


def test_build_writes_flows_json_that_register_json_registers(registry_url: str, tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN_SCRIPT)
    write_flow(tmp_path, "stored")
    output = tmp_path / "out" / "flows.json"
    output.parent.mkdir()
    built = invoke(registry_url, "build", "--path", str(tmp_path / "plain.py"), "-o", str(output))
    assert built.exit_code == 0 and "1 built, 0 errored" in built.output
    updated = invoke(registry_url, "build", "--path", str(tmp_path / "stored.py"), "-o", str(output), "--update")
    assert updated.exit_code == 0, updated.output
    document = json.loads(output.read_text())
    assert document["version"] == 1 and [f["name"] for f in document["flows"]] == ["plain", "stored"]

    first = invoke(registry_url, "register", "--json", str(output), "--label", "from-cli")
    assert first.exit_code == 0 and "2 registered, 0 skipped, 0 errored" in first.output, first.output
    again = invoke(registry_url, "register", "--json", str(output), "--label", "from-cli")
    assert "0 registered, 2 skipped, 0 errored" in again.output
    listed = {f["name"]: f for f in _json(invoke(registry_url, "flows", "ls", "--json"))}
    assert "from-cli" in listed["plain"]["labels"] and listed["plain"]["storage"]["type"] == "Local"

    (tmp_path / "bad.json").write_text('{"flows": 1}')
    bad = invoke(registry_url, "register", "--json", str(tmp_path / "bad.json"))
    assert bad.exit_code == 1 and "is not a valid Prefect flows `json` file." in bad.output
    (tmp_path / "v2.json").write_text('{"version": 2, "flows": []}')
    v2 = invoke(registry_url, "register", "--json", str(tmp_path / "v2.json"))
    assert v2.exit_code == 1 and "is version 2, only version 1 is supported" in v2.output


SHARED_STORAGE_SCRIPT = '''
from prefect_storage import Flow, task
from prefect_storage.storage import Local


class CountingLocal(Local):
    """Counts build() calls in a file and fails them: one build per storage instance."""

    def build(self):
        with open({counter!r}, "a") as fh:
            fh.write("build\\n")
        raise OSError("disk full")


@task
def one():
    return 1


shared = CountingLocal(directory={folder!r}, add_default_labels=False)
with Flow("first", storage=shared) as first:
    one()
with Flow("second", storage=shared) as second:
    one()
'''


def test_storage_shared_by_flows_is_built_once_and_its_failure_errors_each_flow(registry_url: str, tmp_path: Path) -> None:
    counter = tmp_path / "builds.txt"
    script = tmp_path / "shared.py"
    script.write_text(SHARED_STORAGE_SCRIPT.format(counter=str(counter), folder=str(tmp_path / "flows")))
    result = invoke(registry_url, "register", "--path", str(script))
    assert result.exit_code == 1, result.output
    assert "0 registered, 0 skipped, 2 errored" in result.output
    assert counter.read_text().splitlines() == ["build"]  # classic: build() once per storage instance
    with Registry(registry_url) as registry:
        assert registry.list_flows() == []  # nothing half-registered
