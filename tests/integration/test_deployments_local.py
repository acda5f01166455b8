"""Deployments of local code through `agent local`: from Python and from prefect.yaml,
the deployments CLI, failures reported per step / per line, and classic flows migrated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefect_storage.registry import Registry
from tests.integration.deploy_helpers import MY_FLOW, cli, run_deployment, run_script, write

pytestmark = pytest.mark.integration


@pytest.fixture
def registry_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


LOCAL_EXAMPLE = '''
from prefect_storage import flow
from pathlib import Path


@flow(log_prints=True)
def my_flow(name: str = "World"):
    print(f"Hello {name}!")
    print(str(Path(__file__).parent)) # dynamic path


if __name__ == "__main__":
    my_flow.from_source(
        source=str(Path(__file__).parent), # code stored in local directory
        entrypoint="local_process_deploy_local_code.py:my_flow",
    ).deploy(
        name="local-process-deploy-local-code",
        work_pool_name="my-process-pool",
    )
'''


def test_reference_local_example_from_python(registry_url: str, tmp_path: Path) -> None:
    project = write(tmp_path / "project", {"local_process_deploy_local_code.py": LOCAL_EXAMPLE})
    out = run_script(project / "local_process_deploy_local_code.py", registry_url)
    assert "my-flow/local-process-deploy-local-code" in out
    run, logs = run_deployment(registry_url, "my-flow/local-process-deploy-local-code", "my-process-pool", {"name": "Ada"})
    assert run.state == "Success", (run.message, logs)
    assert "Hello Ada!" in logs and str(project) in logs


def test_flow_deploy_without_source_runs_the_file_in_place(registry_url: str, tmp_path: Path) -> None:
    project = write(tmp_path / "p", {
        "hello.py": MY_FLOW + '\nif __name__ == "__main__":\n    my_flow.deploy(name="here", parameters={"name": "Dep"}, cron="0 3 * * *")\n',
    })
    run_script(project / "hello.py", registry_url)
    listing = cli(registry_url, "deployments", "ls", "--json").stdout
    (entry,) = json.loads(listing)
    assert entry["full_name"] == "my-flow/here" and entry["spec"]["schedules"] == [{"cron": "0 3 * * *", "active": True}]
    run, logs = run_deployment(registry_url, "my-flow/here", None)
    assert run.state == "Success" and "Hello Dep!" in logs
    # the classic `run` command works for deployments too (they are flows named FLOW/DEPLOYMENT)
    created = cli(registry_url, "run", "my-flow/here", "--param", "name=Classic")
    assert "Created flow run" in created.stdout
    cli(registry_url, "agent", "local", "--once", "--no-hostname-label")
    with Registry(registry_url) as registry:
        newest = registry.list_flow_runs(limit=1)[0]
        assert newest.state == "Success" and "Hello Classic!" in "\n".join(e.message for e in registry.get_logs(newest.id))


LOCAL_YAML = '''
build: null
push: null
pull:
- prefect.deployments.steps.set_working_directory:
    directory: {directory}
deployments:
- name: local-process-deploy-local-code
  version: null
  tags: []
  concurrency_limit: null
  description: null
  entrypoint: local_process_deploy_local_code.py:my_flow
  parameters: {{}}
  work_pool:
    name: my-process-pool
    work_queue_name: null
    job_variables: {{}}
  enforce_parameter_schema: true
  schedules: []
'''


def test_reference_local_prefect_yaml(registry_url: str, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(project, {"local_process_deploy_local_code.py": LOCAL_EXAMPLE, "prefect.yaml": LOCAL_YAML.format(directory=project)})
    done = cli(registry_url, "deploy", cwd=project)
    assert "Deployment 'my-flow/local-process-deploy-local-code' recorded" in done.stdout
    assert "set_working_directory" in done.stdout and "my-process-pool" in done.stdout
    inspect = json.loads(cli(registry_url, "deployments", "inspect", "local-process-deploy-local-code").stdout)
    assert inspect["spec"]["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == str(project)
    run_cli = cli(registry_url, "deployments", "run", "my-flow/local-process-deploy-local-code", "--param", "name=Yaml")
    assert "my-process-pool" in run_cli.stdout
    agent = cli(registry_url, "agent", "local", "--pool", "my-process-pool", "--once", "--no-hostname-label")
    assert "executed 1 flow run" in agent.stdout
    with Registry(registry_url) as registry:
        run = registry.list_flow_runs(limit=1)[0]
        assert run.state == "Success", run.message
        assert "Hello Yaml!" in "\n".join(e.message for e in registry.get_logs(run.id))
    cli(registry_url, "deployments", "delete", "my-flow/local-process-deploy-local-code")
    assert json.loads(cli(registry_url, "deployments", "ls", "--json").stdout) == []
    missing = cli(registry_url, "deployments", "run", "my-flow/local-process-deploy-local-code", check=False)
    assert missing.returncode == 3 and "No deployment named" in missing.stderr


def test_broken_code_and_steps_fail_the_run_with_where(registry_url: str, tmp_path: Path) -> None:
    project = write(tmp_path / "broken", {
        "flows.py": "from prefect_storage import flow\n\nx = 1\nraise RuntimeError('import-time failure')\n",
        "prefect.yaml": f"""
            pull:
            - prefect.deployments.steps.set_working_directory:
                directory: {tmp_path / 'broken'}
            deployments:
            - name: bad-line
              entrypoint: flows.py:job
            - name: bad-step
              entrypoint: flows.py:job
              pull:
              - prefect.deployments.steps.run_shell_script:
                  id: fetch-token
                  script: "false"
        """,
    })
    done = cli(registry_url, "deploy", "--all", cwd=project, check=False)
    # the flow cannot be loaded here either: its name and parameters are read from the source instead
    assert done.returncode == 1 and "Flow function 'job' not found" in done.stderr
    (project / "flows.py").write_text("from prefect_storage import flow\n\n@flow\ndef job():\n    return 1\n\nraise RuntimeError('later')\n")
    cli(registry_url, "deploy", "--all", cwd=project)
    run, _ = run_deployment(registry_url, "job/bad-line", None)
    assert run.state == "Failed" and "flows.py, line 7" in run.message and "RuntimeError: later" in run.message
    run, _ = run_deployment(registry_url, "job/bad-step", None)
    assert run.state == "Failed" and "'fetch-token'" in run.message and "pulling its code failed" in run.message


def test_unknown_step_in_prefect_yaml_lists_known_steps(registry_url: str, tmp_path: Path) -> None:
    project = write(tmp_path / "u", {
        "f.py": MY_FLOW,
        "prefect.yaml": """
            build:
            - prefect.deployments.steps.build_everything: {}
            deployments:
            - name: d
              entrypoint: f.py:my_flow
        """,
    })
    done = cli(registry_url, "deploy", cwd=project, check=False)
    assert done.returncode == 1 and "Unknown step 'prefect.deployments.steps.build_everything'" in done.stderr
    assert "git_clone" in done.stderr


def test_migrate_classic_flows_to_deployments(registry_url: str, tmp_path: Path) -> None:
    from tests.integration.registry_helpers import load_flow, write_flow

    (tmp_path / "classic").mkdir()
    script = write_flow(tmp_path / "classic", "script-flow", labels=["etl"])
    load_flow(script).register(registry=registry_url)
    pickled = write_flow(tmp_path / "classic", "pickled-flow", filename="pickled.py")
    flow = load_flow(pickled)
    from prefect_storage.storage import Local

    flow.storage = Local(directory=str(tmp_path / "pickles"), add_default_labels=False)
    flow.register(registry=registry_url)
    out = cli(registry_url, "migrate", "deployments", "--write", str(tmp_path / "prefect.yaml")).stdout
    assert "script-flow [Local] from source -> script-flow/migrated: Local script" in out
    assert "pickled-flow [Local] via load_classic_flow -> pickled-flow/migrated: Local pickle" in out
    assert (tmp_path / "prefect.yaml").is_file()
    run, logs = run_deployment(registry_url, "script-flow/migrated", None, env={})
    assert run.labels == ["etl"]
    with Registry(registry_url) as registry:
        from prefect_storage.agent.local import LocalAgent

        LocalAgent(registry, labels=["etl"], hostname_label=False, poll_interval=0.1).start(once=True)
        assert registry.get_flow_run(run.id).state == "Success", registry.get_flow_run(run.id).message
    run, logs = run_deployment(registry_url, "pickled-flow/migrated", None)
    assert run.state == "Success", (run.message, logs)


def test_deployment_schedules_are_served_by_the_scheduler(registry_url: str, tmp_path: Path) -> None:
    from prefect_storage.registry.deployments import delete_deployment
    from prefect_storage.registry.schedules import list_schedules, scheduler_step

    project = write(tmp_path / "s", {"f.py": MY_FLOW})
    from prefect_storage.serialization.entrypoint import load_entrypoint

    flow = load_entrypoint("f.py:my_flow", project)
    flow.deploy(name="every-minute", interval=60, print_next_steps=False, registry=registry_url)
    flow.deploy(name="every-minute", interval=60, print_next_steps=False, registry=registry_url)  # unchanged
    with Registry(registry_url) as registry:
        (info,) = list_schedules(registry)
        assert info.flow_name == "my-flow/every-minute"
        scheduler_step(registry)
        runs = registry.list_flow_runs(flow_name="my-flow/every-minute")
        assert runs and {r.state for r in runs} == {"Scheduled"}
        assert registry.find_flow("my-flow/every-minute").version == 1
        delete_deployment(registry, "my-flow/every-minute")
        assert list_schedules(registry) == []


def test_serve_runs_its_deployment_in_process(registry_url: str, tmp_path: Path) -> None:
    from prefect_storage.registry.deployments import create_deployment_run, get_deployment
    from prefect_storage.serialization.entrypoint import load_entrypoint

    project = write(tmp_path / "served", {"f.py": MY_FLOW})
    flow = load_entrypoint("f.py:my_flow", project)
    assert flow.serve(name="served", once=True, registry=registry_url) == 0  # registered; nothing scheduled yet
    with Registry(registry_url) as registry:
        assert get_deployment(registry, "my-flow/served").work_pool == "serve:my-flow/served"
        run = create_deployment_run(registry, "my-flow/served", {"name": "Served"})
    assert flow.serve(name="served", once=True, registry=registry_url) == 1
    with Registry(registry_url) as registry:
        assert registry.get_flow_run(run.id).state == "Success"
        assert "Hello Served!" in "\n".join(e.message for e in registry.get_logs(run.id))


def test_init_command_and_pip_install_step(registry_url: str, tmp_path: Path) -> None:
    from prefect_storage.deployments.steps.utility import pip_install_requirements

    project = tmp_path / "fresh"
    project.mkdir()
    done = cli(registry_url, "init", "--recipe", "s3", "--field", "bucket=b", "--field", "folder=f", cwd=project)
    assert "prefect.yaml" in done.stdout and (project / ".prefectignore").is_file()
    again = cli(registry_url, "init", "--recipe", "s3", "--field", "bucket=b", "--field", "folder=f", cwd=project, check=False)
    assert again.returncode == 1 and "--force" in again.stderr
    (project / "requirements.txt").write_text("# nothing to install\n")
    assert pip_install_requirements(str(project))["stdout"] is not None
    with pytest.raises(FileNotFoundError):
        pip_install_requirements(str(project), "missing.txt")
