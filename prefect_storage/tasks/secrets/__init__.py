"""Classic ``prefect.tasks.secrets``: tasks that return secret values, never checkpointed."""

from prefect_storage.tasks.secrets.base import PrefectSecret, SecretBase
from prefect_storage.tasks.secrets.env_var import EnvVarSecret

__all__ = ["EnvVarSecret", "PrefectSecret", "SecretBase"]
