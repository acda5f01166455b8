"""One flow, several deployment targets chosen by DEPLOY_ENV (LocalRun on a laptop)."""
import os

from prefect_storage import Flow, task
from prefect_storage.executors import LocalExecutor
from prefect_storage.run_configs import DockerRun, KubernetesRun, LocalRun
from prefect_storage.storage import Local

ENV = os.environ.get("DEPLOY_ENV", "dev")

if ENV == "prod":
    RUN_CONFIG = KubernetesRun(
        image="registry.example.com/flows:1.4",
        cpu_request=0.5,
        memory_limit="2Gi",
        env={"LOG_LEVEL": "INFO"},
        labels=["k8s", "prod"],
    )
elif ENV == "staging":
    RUN_CONFIG = DockerRun(image="registry.example.com/flows:1.4", labels=["docker"])
else:
    RUN_CONFIG = LocalRun(env={"LOG_LEVEL": "DEBUG"})


@task
def which_env():
    return os.environ.get("LOG_LEVEL", "unset")


with Flow("deploy-targets", run_config=RUN_CONFIG, executor=LocalExecutor(), storage=Local(add_default_labels=False)) as flow:
    level = which_env()
