"""``SecretResult``: a secret's value, looked up again on every read and never stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from prefect_storage.results.base import Result


def _lookup_secret(name: str) -> Any:
    from prefect_storage.secrets import Secret

    return Secret(name).get()


class SecretResult(Result):
    """Reads re-run the secret lookup; the value is never written anywhere.

    Args:
        secret_task: a callable taking ``name=`` (the classic secret task) or
            ``None`` to use :class:`prefect_storage.secrets.Secret`.
        **kwargs: ``location``, the secret's name (default: ``secret_task.name``), and
            the other :class:`~prefect_storage.results.base.Result` arguments.
    """

    def __init__(self, secret_task: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        if "serializer" in kwargs:
            raise ValueError("Can't pass a serializer to a SecretResult.")
        self.secret_task = secret_task
        kwargs.setdefault("location", getattr(secret_task, "name", None))
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<SecretResult: {self.location!r}>"  # the name, never the value

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["value"] = None  # a secret value never travels in a pickle
        return state

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        if self.secret_task is None:
            new.value = _lookup_secret(location)
        elif hasattr(self.secret_task, "run"):
            new.value = self.secret_task.run(name=location)
        else:
            new.value = self.secret_task(name=location)
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        raise ValueError("SecretResults cannot be written to.")

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        return cls(location=data.get("location"))
