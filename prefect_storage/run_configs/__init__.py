"""Classic ``prefect.run_configs``: the run config classes (implemented in :mod:`prefect_storage.core.run_config`)."""

from prefect_storage.core.run_config import (
    DockerRun,
    ECSRun,
    KubernetesRun,
    LocalRun,
    RunConfig,
    UniversalRun,
    VertexRun,
)

__all__ = ["DockerRun", "ECSRun", "KubernetesRun", "LocalRun", "RunConfig", "UniversalRun", "VertexRun"]
