"""The classic-script trial: realistic Prefect 1.x flow scripts (``tests/classic_scripts``),
changed only by the import swap, each

1. imported as a module and run with ``flow.run()``, with the values checked;
2. stored with Local storage, pickled and as a script, and loaded and run in a fresh
   process (one child process runs every script, both ways);
3. registered, run and executed by ``prefect-storage agent local --once`` (one agent
   process runs every script's flow run), ending ``Success``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration.registry_helpers import ROOT
from tests.services.notify import SlackSink

pytestmark = pytest.mark.integration

SCRIPTS = ROOT / "tests" / "classic_scripts"


@dataclass
class Script:
    file: str
    flow_name: str
    #: task name -> expected result, checked after flow.run() and in the fresh process
    results: dict[str, Any] = field(default_factory=dict)
    #: task name -> expected state class name
    states: dict[str, str] = field(default_factory=dict)
    run_kwargs: dict[str, Any] = field(default_factory=dict)
    check: Callable[[ModuleType, Any, Any], None] | None = None


def _slack_check(module: ModuleType, flow: Any, state: Any) -> None:
    assert ("divide", "Failed") in module.seen


SCRIPT_CASES = [
    Script("etl_map_reduce.py", "etl-map-reduce", results={"load": 360}, states={"transform": "Mapped"}),
    Script("branching_case_merge.py", "branching", results={"report": "INCREMENTAL DONE"},
           states={"full_refresh": "Skipped", "incremental": "Success"}),
    Script("shell_commands.py", "shell-commands",
           results={"summarize": {"lines": ["hello prefect", "second"], "count": 3}}),
    Script("triggers_cleanup.py", "triggers-cleanup",
           results={"drop_tmp_table": "dropped tmp_orders", "alert": "alert sent"},
           states={"load_orders": "Failed", "publish": "TriggerFailed"}),
    Script("slack_alerts.py", "slack-alerts", results={"fine": "ok"}, states={"divide": "Failed"}, check=_slack_check),
    Script("caching_results.py", "caching-results", results={"convert": 110.0}),
    Script("deploy_targets.py", "deploy-targets", results={"which_env": "unset"}),
    Script("scheduled_report.py", "scheduled-report", run_kwargs={"run_on_schedule": False}),
    Script("dask_parallel.py", "dask-parallel", results={"total": 285}),
    Script("logging_context.py", "logging-context",
           results={"greet": "greet", "describe": {"flow_name": "logging-context", "has_date": True,
                                                   "parameters": {"name": "world"}}}),
    Script("secrets_config.py", "secrets-config", results={"connect": {"token_len": 12, "port": 5432,
                                                                        "client_secret_len": 12}}),
    Script("signals_loop.py", "signals-loop",
           results={"fetch_pages": ["item-1", "item-2", "item-3", "item-4"], "short_circuit": "cached"},
           states={"maybe_archive": "Skipped", "after_archive": "Skipped"}),
    Script("combined_pipeline.py", "combined-pipeline",
           results={"total": 17, "auto_approve": "approved 17", "close_batch": "closed (approved 17)"},
           states={"price_order": "Mapped", "manual_review": "Skipped", "page_on_call": "TriggerFailed"}),
    Script("files_apply_map.py", "files-apply-map", states={"size_of": "Mapped", "mark_small": "Mapped"}),
]


def _env(tmp: Path, slack: SlackSink) -> dict[str, str]:
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    (data / "a.csv").write_text("id,value\n1,100\n2,200\n")
    (data / "b.csv").write_text("id\n")
    return {
        "DATA_DIR": str(data),
        "RESULTS_DIR": str(tmp / "results"),
        "SLACK_WEBHOOK_URL": slack.url("/hooks/trial"),
        "API_TOKEN": "s3cr3t-token",
        "DB_PORT": "5432",
    }


@pytest.fixture
def script_env(tmp_path: Path, slack_sink: SlackSink, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = _env(tmp_path, slack_sink)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _import(path: Path) -> ModuleType:
    name = f"classic_script_{path.stem}_{uuid.uuid4().hex[:6]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _by_name(flow: Any, state: Any) -> dict[str, Any]:
    """task name -> its state (the first task of that name)."""
    out: dict[str, Any] = {}
    for t in flow.tasks:
        if t in state.result:
            out.setdefault(t.name, state.result[t])
    return out


@pytest.mark.parametrize("case", SCRIPT_CASES, ids=lambda c: c.file[:-3])
def test_flow_run(case: Script, script_env: dict[str, str], slack_sink: SlackSink) -> None:
    module = _import(SCRIPTS / case.file)
    flow = module.flow
    assert flow.name == case.flow_name
    state = flow.run(**case.run_kwargs)
    assert state.is_successful(), (state, {k: (v, v.result) for k, v in _by_name(flow, state).items()})
    states = _by_name(flow, state)
    for name, expected in case.results.items():
        assert states[name].result == expected, name
    for name, kind in case.states.items():
        assert type(states[name]).__name__ == kind, (name, states[name])
    if case.check:
        case.check(module, flow, state)


def test_etl_maps_over_the_flattened_batches(script_env: dict[str, str], tmp_path: Path) -> None:
    module = _import(SCRIPTS / "etl_map_reduce.py")
    state = module.flow.run(parameters={"n_batches": 2, "batch_size": 2, "multiplier": 3})
    transform = state.result[module.cleaned]
    assert [c.result["value"] for c in transform.map_states] == [0, 30, 0, 30]
    assert state.result[module.total].result == 60


def test_case_branch_switches_with_the_parameter(script_env: dict[str, str]) -> None:
    module = _import(SCRIPTS / "branching_case_merge.py")
    state = module.flow.run(parameters={"mode": "full"})
    assert state.result[module.outcome].result == "FULL REFRESH DONE"
    assert type(state.result[module.b]).__name__ == "Skipped"


def test_slack_alerts_reach_the_loopback_webhook(script_env: dict[str, str], slack_sink: SlackSink) -> None:
    module = _import(SCRIPTS / "slack_alerts.py")
    assert module.flow.run().is_successful()
    texts = [b["attachments"][0]["text"] for b in slack_sink.bodies()]
    assert texts == ["divide is now in a Failed state", "slack-alerts is now in a Success state"]


def test_caching_reuses_results_within_the_process(script_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT__FLOWS__CHECKPOINTING", "true")  # targets are honoured with checkpointing on
    module = _import(SCRIPTS / "caching_results.py")
    first = module.flow.run()
    calls = list(module.CALLS)  # the cache is per process, keyed by task: an earlier test may have filled it
    second = module.flow.run()
    assert module.CALLS == calls and len(calls) <= 1
    states = _by_name(module.flow, second)
    assert type(states["fetch_rates"]).__name__ == "Cached" and states["fetch_rates"].result == 1.1
    assert type(states["convert"]).__name__ == "Cached" and states["convert"].result == 110.0
    assert first.is_successful() and second.is_successful()
    assert (Path(script_env["RESULTS_DIR"]) / "convert-EUR.txt").exists()


def test_deploy_targets_serialize_kubernetes_and_docker_run_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_ENV", "prod")
    prod = _import(SCRIPTS / "deploy_targets.py").flow.serialize()["run_config"]
    assert prod["type"] == "KubernetesRun" and prod["image"] == "registry.example.com/flows:1.4"
    assert prod["cpu_request"] == "0.5" and prod["memory_limit"] == "2Gi" and prod["labels"] == ["k8s", "prod"]
    monkeypatch.setenv("DEPLOY_ENV", "staging")
    staging = _import(SCRIPTS / "deploy_targets.py").flow.serialize()["run_config"]
    assert staging["type"] == "DockerRun" and staging["labels"] == ["docker"]


def test_scheduled_report_schedule(script_env: dict[str, str]) -> None:
    module = _import(SCRIPTS / "scheduled_report.py")
    upcoming = module.schedule.next(5)
    assert len(upcoming) == 5 and all(d.weekday() < 5 for d in upcoming)
    assert upcoming == sorted(upcoming)


def test_log_stdout_and_context_logger_reach_the_logs(script_env: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.INFO)
    module = _import(SCRIPTS / "logging_context.py")
    assert module.flow.run().is_successful()
    messages = [r.getMessage() for r in caplog.records]
    assert "Hello, world!" in messages
    assert "flow logging-context" in messages


def test_files_apply_map_branches_per_file(script_env: dict[str, str]) -> None:
    module = _import(SCRIPTS / "files_apply_map.py")
    state = module.flow.run()
    states = _by_name(module.flow, state)
    data = Path(script_env["DATA_DIR"])
    assert states["as_strings"].result == [str(data / "a.csv"), str(data / "b.csv")]
    assert (data / "copy.bak").exists()
    size_of, mark_small = states["size_of"], states["mark_small"]  # mapped by apply_map, one child per file
    assert [type(c).__name__ for c in size_of.map_states] == ["Success", "Skipped"]
    assert [type(c).__name__ for c in mark_small.map_states] == ["Skipped", "Success"]
    assert size_of.map_states[0].result == len("id,value\n1,100\n2,200\n") and mark_small.map_states[1].result == 0


# ------------------------------------------------------------------- fresh-process round trip

CHILD = textwrap.dedent(
    """
    import json, sys
    from prefect_storage.storage.base import Storage

    out = {}
    for job in json.load(sys.stdin):
        try:
            flow = Storage.deserialize(job["storage"]).get_flow(job["flow_name"])
            state = flow.run(**job["run_kwargs"])
        except Exception as exc:
            out[job["key"]] = {"error": repr(exc)}
            continue
        results = {}
        for t in flow.tasks:
            s = state.result.get(t) if hasattr(state.result, "get") else None
            if s is None or t.name in results:
                continue
            try:
                json.dumps(s.result)
                value = s.result
            except (TypeError, ValueError):
                value = repr(s.result)
            results[t.name] = [type(s).__name__, value]
        out[job["key"]] = {"state": type(state).__name__, "tasks": results}
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory, slack_sink_session: SlackSink) -> dict[str, Any]:
    from prefect_storage.storage import Local

    tmp = tmp_path_factory.mktemp("round-trip")
    env = {**os.environ, **_env(tmp, slack_sink_session), "PREFECT_STORAGE_HOME": str(tmp / "home")}
    jobs = []
    failures: dict[str, Any] = {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the scripts read their settings at import time
    try:
        for case in SCRIPT_CASES:
            path = SCRIPTS / case.file
            for mode in ("pickle", "script"):
                try:
                    flow = _import(path).flow
                    if mode == "pickle":
                        storage = Local(directory=str(tmp / "pickles"), add_default_labels=False)
                    else:
                        storage = Local(path=str(path), stored_as_script=True, add_default_labels=False)
                    storage.add_flow(flow)
                    storage.build()
                except Exception as exc:  # reported by this script's test only
                    failures[f"{case.file}:{mode}"] = {"error": f"storing failed: {exc!r}"}
                    continue
                jobs.append({"key": f"{case.file}:{mode}", "flow_name": flow.name,
                             "storage": storage.serialize(), "run_kwargs": case.run_kwargs})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    proc = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(jobs), capture_output=True, text=True,
                          env=env, cwd=str(tmp), timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), **failures}


@pytest.mark.parametrize("mode", ["pickle", "script"])
@pytest.mark.parametrize("case", SCRIPT_CASES, ids=lambda c: c.file[:-3])
def test_local_storage_round_trip_in_a_fresh_process(case: Script, mode: str, round_trip: dict[str, Any]) -> None:
    outcome = round_trip[f"{case.file}:{mode}"]
    assert outcome["state"] == "Success", outcome
    for name, expected in case.results.items():
        kind, value = outcome["tasks"][name]
        if name == "which_env":
            continue  # the environment differs on purpose
        assert value == expected, (name, kind, value)
    for name, kind in case.states.items():
        assert outcome["tasks"][name][0] == kind, name


# ------------------------------------------------------------------- register -> run -> agent


@pytest.fixture(scope="module")
def agent_runs(tmp_path_factory: pytest.TempPathFactory, slack_sink_session: SlackSink) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("agent-trial")
    registry = f"sqlite:///{tmp / 'registry.db'}"
    env = {**os.environ, **_env(tmp, slack_sink_session), "PREFECT_STORAGE_HOME": str(tmp / "home")}
    base = [sys.executable, "-m", "prefect_storage.cli", "--registry", registry]

    def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([*base, *args], capture_output=True, text=True, env=env, cwd=str(ROOT),
                              timeout=timeout, check=False)

    paths = [str(SCRIPTS / c.file) for c in SCRIPT_CASES]
    registered = cli("register", *[a for p in paths for a in ("--path", p)])
    from prefect_storage.registry import Registry

    # a script that cannot be registered fails its own test below (no run, no state)
    with Registry(registry) as reg:
        for record in reg.list_flows():
            reg.create_flow_run(record.id)
    agent = cli("agent", "local", "--once", "--poll-interval", "0.1", "--concurrency", "2", "--label", "etl")
    assert agent.returncode == 0, agent.stdout + agent.stderr
    with Registry(registry) as reg:
        runs: dict[str, Any] = {r.flow_name: r.to_json() for r in reg.list_flow_runs()}
    runs["__agent_output__"] = registered.stdout + registered.stderr + agent.stdout + agent.stderr
    return runs


@pytest.mark.parametrize("case", SCRIPT_CASES, ids=lambda c: c.file[:-3])
def test_register_run_agent(case: Script, agent_runs: dict[str, Any]) -> None:
    assert case.flow_name in agent_runs, agent_runs["__agent_output__"][-3000:]
    run = agent_runs[case.flow_name]
    assert run["state"] == "Success", (run, agent_runs["__agent_output__"][-3000:])
    task_states = {t["name"]: t["state"] for t in run["tasks"] or []}
    for name, kind in case.states.items():
        if kind not in ("Mapped",):
            assert task_states.get(name) == kind, (name, task_states)


def test_scripts_run_as_main_programs(tmp_path: Path, slack_sink: SlackSink) -> None:
    """``python script.py``: the classic ``if __name__ == "__main__": flow.run()`` (and a
    ``flow.visualize()`` guarded for a machine without graphviz)."""
    env = {**os.environ, **_env(tmp_path, slack_sink), "ETL_OUTPUT": str(tmp_path / "etl.json")}
    for script in ("etl_map_reduce.py", "files_apply_map.py"):
        proc = subprocess.run([sys.executable, str(SCRIPTS / script)], capture_output=True, text=True, env=env,
                              cwd=str(tmp_path), timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "etl.json").read_text()) == {"count": 12, "total": 360}
    assert (tmp_path / "data" / "copy.bak").exists()


def test_kubernetes_run_config_is_registered_and_the_local_agent_names_the_agent_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect_storage.agent.local import LocalAgent
    from prefect_storage.registry import Registry

    monkeypatch.setenv("DEPLOY_ENV", "prod")
    flow = _import(SCRIPTS / "deploy_targets.py").flow
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow_id = flow.register(registry=url)
    with Registry(url) as registry:
        stored = registry.get_flow(flow_id).serialized["run_config"]
        registry.create_flow_run(flow_id)
    assert stored["type"] == "KubernetesRun" and stored["image"] == "registry.example.com/flows:1.4"
    assert stored["env"] == {"LOG_LEVEL": "INFO"} and {"k8s", "prod"} <= set(stored["labels"])
    LocalAgent(url, labels=["k8s", "prod"], hostname_label=False, poll_interval=0.1).start(once=True)
    with Registry(url) as registry:
        (run,) = registry.list_flow_runs()
    assert run.state == "Failed" and "needs a Kubernetes agent" in (run.message or "")
