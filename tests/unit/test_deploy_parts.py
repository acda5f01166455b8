"""Pure logic of the modern bridge: entrypoints, @flow, templating, step names, ignore files,
schedules, Dockerfile, prefect.yaml writing, migration plans."""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from pathlib import Path

import pytest

from prefect_storage import flow
from prefect_storage.core.modern_flow import ModernFlow, to_modern_flow
from prefect_storage.deployments import templating
from prefect_storage.deployments.steps.core import check_requirements, resolve_step, run_steps
from prefect_storage.exceptions import (
    DeploymentError,
    EntrypointError,
    MissingFlowError,
    StepExecutionError,
    StepRequirementError,
    TemplateError,
    UnknownStepError,
)
from prefect_storage.serialization.entrypoint import load_entrypoint, split_entrypoint

# -- entrypoints ---------------------------------------------------------------------------------


def test_split_entrypoint_forms() -> None:
    assert split_entrypoint("flows/etl.py:my_flow") == ("flows/etl.py", "my_flow", True)
    assert split_entrypoint("etl.py:Cls.method") == ("etl.py", "Cls.method", True)
    assert split_entrypoint("pkg.mod:my_flow") == ("pkg.mod", "my_flow", False)
    assert split_entrypoint("pkg.mod.my_flow") == ("pkg.mod", "my_flow", False)
    assert split_entrypoint(r"C:\code\etl.py:f") == (r"C:\code\etl.py", "f", True)
    with pytest.raises(EntrypointError, match="does not name"):
        split_entrypoint("etl.py")


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "helpers.py").write_text("VALUE = 41\n")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "sibling.py").write_text("BONUS = 1\n")
    (tmp_path / "flows" / "etl.py").write_text(
        textwrap.dedent(
            """
            from prefect_storage import flow
            import helpers, sibling

            @flow(name="etl-flow")
            def etl(n: int = 1):
                return helpers.VALUE + sibling.BONUS + n

            def plain(x=2):
                return x * 10

            if __name__ == "__main__":
                raise SystemExit("main block must not run")
            """
        )
    )
    return tmp_path


def test_file_entrypoint_loads_with_siblings_and_restores_sys_path(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = list(sys.path)
    obj = load_entrypoint("flows/etl.py:etl", root)
    assert sys.path == before
    assert isinstance(obj, ModernFlow) and obj.name == "etl-flow"
    assert obj(n=2) == 44
    again = load_entrypoint("flows/etl.py:etl", root)
    assert again is not obj and again.fn.__module__ != obj.fn.__module__  # unique module names
    assert load_entrypoint("flows/etl.py:etl-flow", root).name == "etl-flow"  # by the flow's own name


def test_plain_function_is_wrapped_with_log_prints(tmp_path: Path) -> None:
    wrapped = to_modern_flow(load_entrypoint("flows/etl.py:plain", _project(tmp_path)))
    assert wrapped.log_prints and wrapped.name == "plain" and wrapped() == 20


def test_missing_name_lists_the_flows(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with pytest.raises(MissingFlowError, match=r"'nope' not found in .*etl\.py.*etl-flow \(as etl\)"):
        load_entrypoint("flows/etl.py:nope", root)


def test_failing_script_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("x = 1\n\nraise ValueError('boom')\n")
    with pytest.raises(EntrypointError, match=r"bad\.py, line 3 failed: ValueError: boom"):
        load_entrypoint("bad.py:x", tmp_path)
    (tmp_path / "syntax.py").write_text("def f(:\n")
    with pytest.raises(EntrypointError, match=r"syntax\.py, line 1"):
        load_entrypoint("syntax.py:f", tmp_path)
    with pytest.raises(EntrypointError, match="does not exist"):
        load_entrypoint("absent.py:f", tmp_path)


def test_module_entrypoint(tmp_path: Path) -> None:
    (tmp_path / "modflows").mkdir()
    (tmp_path / "modflows" / "__init__.py").write_text("")
    (tmp_path / "modflows" / "jobs.py").write_text("from prefect_storage import flow\n@flow\ndef job():\n    return 'ok'\n")
    try:
        assert load_entrypoint("modflows.jobs:job", tmp_path)() == "ok"
        assert load_entrypoint("modflows.jobs.job", tmp_path)() == "ok"
        with pytest.raises(EntrypointError, match="cannot be imported"):
            load_entrypoint("modflows.absent:job", tmp_path)
    finally:
        for name in [m for m in sys.modules if m.startswith("modflows")]:
            del sys.modules[name]


def test_classic_flow_entrypoint_runs_through_the_classic_runner(tmp_path: Path) -> None:
    (tmp_path / "classic.py").write_text(
        textwrap.dedent(
            """
            from prefect_storage import Flow, Parameter, task
            @task
            def add(x):
                return x + 1
            with Flow("classic-etl") as f:
                add(Parameter("x", default=1))
            f.run()  # skipped while loading
            """
        )
    )
    modern = to_modern_flow(load_entrypoint("classic.py:classic-etl", tmp_path))
    assert modern.name == "classic-etl"
    state = modern(x=5)
    assert state.is_successful()


# -- the modern flow ---------------------------------------------------------------------------


def test_flow_call_retries_coercion_and_names() -> None:
    attempts = []

    @flow(retries=2, retry_delay_seconds=0)
    def flaky_job(n: int, label: str = "x"):
        attempts.append(n)
        if len(attempts) < 3:
            raise RuntimeError("transient")
        return n * 2

    assert flaky_job.name == "flaky-job"
    assert flaky_job("4") == 8 and attempts == [4, 4, 4]
    with pytest.raises(TypeError, match="must be int"):
        flaky_job("four")
    with pytest.raises(TypeError, match="flaky-job"):
        flaky_job(1, 2, 3)
    state = flow(lambda: 1 / 0)(return_state=True)
    assert state.is_failed() and "ZeroDivisionError" in state.message


def test_flow_timeout_and_log_prints(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    @flow(timeout_seconds=0.2)
    def slow():
        time.sleep(2)

    with pytest.raises(TimeoutError, match="timeout of 0.2"):
        slow()

    @flow(log_prints=True)
    def chatty(who: str = "World"):
        print(f"Hello {who}!")
        return who

    with caplog.at_level(logging.INFO, logger="prefect_storage.flow_runs"):
        assert chatty() == "World"
    assert "Hello World!" in caplog.text and "Hello World!" in capsys.readouterr().out


def test_async_flow() -> None:
    @flow
    async def later(x: int = 1):
        await asyncio.sleep(0)
        return x + 1

    assert asyncio.run(later(x=2)) == 3


def test_unknown_flow_option_is_rejected() -> None:
    with pytest.raises(TypeError, match="retires"):
        flow(retires=3)(lambda: None)


# -- templating ----------------------------------------------------------------------------------


def test_templating_outputs_env_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_T_ENV", "from-env")
    outputs: dict = {}
    templating.record_output(outputs, "push_code", {"bucket": "b", "folder": "f"})
    value = {
        "bucket": "{{ push_code.bucket }}",
        "folder": "{{ pull_code.folder }}",  # the reference page's typo: falls back to the latest `folder`
        "text": "s3://{{ push_code.bucket }}/{{ $DEPLOY_T_ENV }}",
        "whole": "{{ push_code }}",
    }
    assert templating.render(value, outputs) == {
        "bucket": "b", "folder": "f", "text": "s3://b/from-env", "whole": {"bucket": "b", "folder": "f"},
    }
    with pytest.raises(TemplateError, match="DEPLOY_T_MISSING"):
        templating.render("{{ $DEPLOY_T_MISSING }}")
    kept = templating.render_outputs_only(
        {"a": "{{ push_code.bucket }}", "b": "{{ prefect.blocks.secret.tok }}", "c": "{{ $HOME }}", "d": "{{ later.x }}"},
        outputs,
    )
    assert kept == {"a": "b", "b": "{{ prefect.blocks.secret.tok }}", "c": "{{ $HOME }}", "d": "{{ later.x }}"}


def test_variables_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_VARIABLE_BRANCH", "dev")
    assert templating.render("{{ prefect.variables.branch }}") == "dev"


# -- steps ---------------------------------------------------------------------------------------


def test_prefect_step_names_resolve_to_ours() -> None:
    from prefect_storage.deployments.steps import build, pull, push, utility

    assert resolve_step("prefect.deployments.steps.git_clone") is pull.git_clone
    assert resolve_step("prefect.deployments.steps.pull.git_clone") is pull.git_clone
    assert resolve_step("prefect.deployments.steps.run_shell_script") is utility.run_shell_script
    assert resolve_step("prefect_aws.deployments.steps.push_to_s3") is push.push_to_s3
    assert resolve_step("prefect_gcp.deployment.steps.pull_from_gcs") is push.pull_from_gcs
    assert resolve_step("prefect_azure.deployments.steps.pull_from_azure_blob_storage") is push.pull_from_azure_blob_storage
    assert resolve_step("prefect_docker.deployments.steps.build_docker_image") is build.build_docker_image
    assert resolve_step("prefect_storage.deployments.steps.set_working_directory") is pull.set_working_directory
    with pytest.raises(UnknownStepError, match="git_clone, load_classic_flow"):
        resolve_step("prefect.deployments.steps.git_klone")
    assert resolve_step("os.path.join") is __import__("os").path.join  # user functions, as in Prefect


def test_requires_is_checked_not_installed() -> None:
    check_requirements("pytest>=1")
    check_requirements(["prefect>=3", "prefect-github"])  # integration packages map to what our steps need
    with pytest.raises(StepRequirementError, match="no-such-package-xyz.*--allow-install"):
        check_requirements("no-such-package-xyz>=1", allow_install=False)
    with pytest.raises(StepRequirementError, match="pytest<1"):
        check_requirements("pytest<1", allow_install=False)


def test_steps_chain_outputs_and_failures_name_the_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.secrets import remember_secret

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    outputs = run_steps(
        [
            {"prefect.deployments.steps.run_shell_script": {"id": "get-dir", "script": "echo sub"}},
            {"prefect.deployments.steps.set_working_directory": {"directory": "{{ get-dir.stdout }}"}},
        ]
    )
    assert outputs["get-dir"]["stdout"] == "sub" and Path(outputs["directory"]) == (tmp_path / "sub").resolve()
    remember_secret("s3cr3t-value-123")
    monkeypatch.setenv("DEPLOY_T_SECRET", "s3cr3t-value-123")
    with pytest.raises(StepExecutionError) as info:
        run_steps([{"prefect.deployments.steps.run_shell_script": {
            "id": "leaky", "script": "sh -c 'echo {{ $DEPLOY_T_SECRET }} >&2; exit 3'"}}])
    message = str(info.value)
    assert "'leaky'" in message and "run_shell_script" in message and "code 3" in message
    assert "s3cr3t-value-123" not in message


def test_prefectignore_filters_with_gitignore_rules(tmp_path: Path) -> None:
    from prefect_storage.deployments.steps.push import included_files

    for rel in ("a.py", "b.pyc", "pkg/c.py", "pkg/__pycache__/c.pyc", ".git/HEAD", "data/keep.csv", "data/skip.tmp"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / ".prefectignore").write_text("*.pyc\n__pycache__/\n.git/\ndata/*\n!data/keep.csv\n")
    assert included_files(tmp_path) == [".prefectignore", "a.py", "data/keep.csv", "pkg/c.py"]


def test_schedules_are_normalized() -> None:
    import datetime

    from prefect_storage.deployments.deploy import normalize_schedules

    assert normalize_schedules(cron="0 * * * *", interval=datetime.timedelta(minutes=5)) == [
        {"cron": "0 * * * *", "active": True}, {"interval": 300.0, "active": True},
    ]
    assert normalize_schedules(schedules=[{"cron": "*/5 * * * *", "timezone": "UTC"}])[0]["timezone"] == "UTC"
    with pytest.raises(DeploymentError):
        normalize_schedules(cron="not a cron")
    with pytest.raises(DeploymentError):
        normalize_schedules(interval=0)


def test_auto_dockerfile_installs_requirements_and_copies_the_project() -> None:
    from prefect_storage.deployments.steps.build import auto_dockerfile

    text = auto_dockerfile("proj", "python:3.11-slim", has_requirements=True, wheelhouse=False)
    lines = text.splitlines()
    assert lines[0] == "FROM python:3.11-slim"
    assert any("prefect-storage" in line for line in lines)
    assert "COPY requirements.txt /opt/prefect/proj/requirements.txt" in lines
    assert lines[-2:] == ["COPY . /opt/prefect/proj/", "WORKDIR /opt/prefect/proj/"]
    offline = auto_dockerfile("proj", "base", has_requirements=False, wheelhouse=True)
    assert "--no-index" in offline and "requirements" not in offline


# -- prefect.yaml ----------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe", ["git", "s3", "gcs", "azure", "docker", "local"])
def test_init_writes_a_prefect3_layout(tmp_path: Path, recipe: str) -> None:
    import yaml

    from prefect_storage.deployments.project import init_project, load_project

    fields = {"repository": "https://example.com/r.git", "branch": "main", "bucket": "b", "folder": "f", "container": "c"}
    written = init_project(recipe, fields, tmp_path)
    assert [p.name for p in written] == ["prefect.yaml", ".prefectignore"]
    data = yaml.safe_load((tmp_path / "prefect.yaml").read_text())
    assert {"build", "push", "pull", "deployments"} <= set(data)
    for section in ("build", "push", "pull"):
        for step in data[section] or []:
            (name,) = step
            assert name.split(".")[0] in {"prefect", "prefect_aws", "prefect_gcp", "prefect_azure", "prefect_docker"}
            resolve_step(name)
    assert load_project(tmp_path / "prefect.yaml")["deployments"][0]["work_pool"]["name"] is None
    with pytest.raises(DeploymentError, match="already exists"):
        init_project(recipe, fields, tmp_path)


def test_init_names_missing_fields(tmp_path: Path) -> None:
    from prefect_storage.deployments.project import init_project

    with pytest.raises(DeploymentError, match="bucket"):
        init_project("s3", {}, tmp_path)


# -- migration plans ---------------------------------------------------------------------------------


def test_migration_plans_per_storage() -> None:
    from prefect_storage.deployments.migrate import plan_for

    local = plan_for("etl", {"type": "Local", "stored_as_script": True, "flows": {"etl": "/code/flows/etl.py"}})
    assert local.entrypoint == "etl.py:etl" and local.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "/code/flows"}}]
    pickle = plan_for("etl", {"type": "Local", "flows": {"etl": "/x/etl/2024"}})
    assert not pickle.from_source and "pickle has no source" in pickle.reason
    (step,) = pickle.pull_steps
    assert step["prefect_storage.deployments.steps.load_classic_flow"]["flow_name"] == "etl"
    git = plan_for("etl", {"type": "Git", "repo": "org/flows", "flow_path": "flows/etl.py", "branch_name": "dev",
                           "git_token_secret_name": "GH_TOKEN", "flows": {"etl": "flows/etl.py"}})
    clone = git.pull_steps[0]["prefect.deployments.steps.git_clone"]
    assert clone["repository"] == "https://github.com/org/flows.git" and clone["branch"] == "dev"
    assert clone["credentials"]["access_token"] == "{{ prefect.blocks.secret.GH_TOKEN }}"
    assert git.entrypoint == "flows/etl.py:etl"
    s3 = plan_for("etl", {"type": "S3", "bucket": "bk", "stored_as_script": True, "flows": {"etl": "etl/2024-01"}})
    assert s3.pull_steps[0]["prefect.deployments.steps.pull_from_remote_storage"]["url"] == "s3://bk/etl"
    assert s3.entrypoint == "./2024-01:etl"
    module = plan_for("etl", {"type": "Module", "module": "pkg.flows", "flows": {"etl": "pkg.flows"}})
    assert module.entrypoint == "pkg.flows:etl" and module.pull_steps == []
    assert "no pullable source" in plan_for("etl", {"type": "Webhook", "flows": {}}).reason


def test_classic_task_runs_at_once_inside_a_modern_flow_with_its_retries() -> None:
    import datetime

    from prefect_storage import task

    calls = []

    @task(max_retries=2, retry_delay=datetime.timedelta(seconds=0))
    def flaky(x):
        calls.append(x)
        if len(calls) < 3:
            raise ValueError("again")
        return x * 10

    @flow
    def uses_tasks(x: int = 1):
        return flaky(x) + 1

    assert uses_tasks(x=2) == 21 and calls == [2, 2, 2]


def test_a_sibling_module_wins_over_a_same_named_module_imported_earlier(tmp_path: Path) -> None:
    import types

    earlier = types.ModuleType("helpers")
    earlier.__file__ = str(tmp_path / "elsewhere" / "helpers.py")
    sys.modules["helpers"] = earlier  # e.g. another project's `helpers`, imported before
    try:
        obj = load_entrypoint("flows/etl.py:etl", _project(tmp_path))
        assert obj(n=2) == 44  # computed with the sibling helpers.py, not the earlier module
        assert sys.modules["helpers"] is earlier  # and the earlier module is put back
    finally:
        sys.modules.pop("helpers", None)
