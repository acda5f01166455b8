"""Secret tasks: ``SecretBase`` and ``PrefectSecret`` (classic ``prefect.tasks.secrets.base``)."""

from __future__ import annotations

from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.results.secret import SecretResult
from prefect_storage.secrets import Secret

__all__ = ["PrefectSecret", "SecretBase"]


class SecretBase(Task):
    """Base class of tasks that return a secret value.

    The value is never checkpointed: ``checkpoint`` is forced off and the task's
    result is a :class:`SecretResult`, which looks the secret up again instead of
    storing it. Passing ``result=`` raises ``ValueError``. Subclasses implement ``run``.
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("result"):
            raise ValueError("Result types for Secrets are not configurable.")
        kwargs["checkpoint"] = False
        super().__init__(**kwargs)
        self.result = SecretResult(secret_task=self)


class PrefectSecret(SecretBase):
    """Return the secret ``name`` from prefect_storage's secret chain (``Secret(name).get()``).

    The chain is the environment variable ``NAME``, the secrets an agent passed to the
    run, ``PREFECT__CONTEXT__SECRETS__NAME``, ``[context.secrets]`` in the config file
    and configured providers (see :mod:`prefect_storage.secrets`). JSON values are
    decoded. The task is named after the secret.
    """

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.secret_name = name
        super().__init__(name=name, **kwargs)

    def run(self, name: str | None = None) -> Any:
        """The value of secret ``name`` (default: the name given at construction)."""
        name = name if name is not None else self.secret_name
        if name is None:
            raise ValueError("A secret name must be provided.")
        return Secret(name).get()
