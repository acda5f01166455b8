"""Run configs: classic arguments, checks, and the serialize/deserialize round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_storage.core.run_config import RunConfig
from prefect_storage.run_configs import DockerRun, ECSRun, KubernetesRun, LocalRun, UniversalRun, VertexRun


@pytest.mark.parametrize(
    "config",
    [
        UniversalRun({"A": "1"}, ["x"]),
        LocalRun(env={"A": "1"}, working_dir="/tmp/work", labels=["dev"]),
        DockerRun(image="team/flows:3", env={"B": "2"}, labels=["docker"], ports=[8080], host_config={"mem_limit": "1g"}),
        KubernetesRun(job_template={"apiVersion": "batch/v1"}, image="img:1", cpu_limit=2, cpu_request=0.5,
                      memory_limit="2Gi", memory_request="1Gi", service_account_name="runner",
                      image_pull_secrets=("regcred",), labels=["k8s"], image_pull_policy="IfNotPresent"),
        KubernetesRun(job_template_path="s3://bucket/job.yaml"),
        ECSRun(task_definition={"family": "flows"}, image="img:2", cpu=1024, memory=2048,
               task_role_arn="arn:aws:iam::1:role/t", execution_role_arn="arn:aws:iam::1:role/e",
               run_task_kwargs={"cluster": "c"}, labels=["ecs"]),
        ECSRun(task_definition_arn="arn:aws:ecs:us-east-1:1:task-definition/flows:3"),
        VertexRun(image="img:3", machine_type="n1-standard-8", scheduling={"timeout": "3600s"},
                  service_account="sa@p.iam", network="net", labels=["vertex"]),
    ],
    ids=lambda c: type(c).__name__,
)
def test_round_trip(config: RunConfig) -> None:
    data = config.serialize()
    assert data["type"] == type(config).__name__
    again = RunConfig.deserialize(data)
    assert type(again) is type(config)
    assert again == config
    assert again.serialize() == data


def test_classic_argument_rules(tmp_path: Path) -> None:
    k = KubernetesRun(cpu_limit=2, cpu_request=1.5, image_pull_secrets=("a", "b"))
    assert (k.cpu_limit, k.cpu_request, k.image_pull_secrets) == ("2", "1.5", ["a", "b"])
    assert KubernetesRun(job_template="a: 1").job_template == {"a": 1}
    template = tmp_path / "job.yaml"
    template.write_text("apiVersion: batch/v1\nkind: Job\n")
    local = KubernetesRun(job_template_path=str(template))
    assert local.job_template == {"apiVersion": "batch/v1", "kind": "Job"} and local.job_template_path is None
    assert KubernetesRun(job_template_path=f"file://{template}").job_template["kind"] == "Job"
    with pytest.raises(ValueError, match="Cannot provide both `job_template_path` and `job_template`"):
        KubernetesRun(job_template_path="x.yaml", job_template={})
    with pytest.raises(ValueError, match="Invalid image_pull_policy 'Sometimes'"):
        KubernetesRun(image_pull_policy="Sometimes")

    ecs = ECSRun(cpu=1024, memory=2048)
    assert (ecs.cpu, ecs.memory) == ("1024", "2048")
    taskdef = tmp_path / "task.yaml"
    taskdef.write_text("family: flows\n")
    assert ECSRun(task_definition_path=str(taskdef)).task_definition == {"family": "flows"}
    with pytest.raises(ValueError, match="Can only provide one of"):
        ECSRun(task_definition={}, task_definition_arn="arn")
    with pytest.raises(ValueError, match="Cannot provide both `task_definition_arn` and `image`"):
        ECSRun(task_definition_arn="arn", image="img")

    assert VertexRun().machine_type == "e2-standard-4"
    assert LocalRun(working_dir="rel").working_dir == str(Path("rel").resolve())
    with pytest.raises(TypeError):
        LocalRun({"a": "1"})  # type: ignore[misc]  # keyword-only, as classic
    assert UniversalRun(labels=["a"]) == UniversalRun(labels=["a"])
    assert UniversalRun(labels=["a"]) != LocalRun(labels=["a"])


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown run config type 'NomadRun'"):
        RunConfig.deserialize({"type": "NomadRun"})


def test_flow_serializes_its_run_config() -> None:
    from prefect_storage import Flow

    flow = Flow("k8s", run_config=KubernetesRun(image="img:1", labels=["k8s"]))
    data = flow.serialize()["run_config"]
    assert data["type"] == "KubernetesRun" and data["image"] == "img:1" and data["labels"] == ["k8s"]
    assert RunConfig.deserialize(data) == flow.run_config
