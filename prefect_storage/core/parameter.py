"""Flow inputs (classic ``prefect.core.parameter``): ``Parameter`` and ``DateTimeParameter``."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current
from prefect_storage.core.task import NoDefault, Task

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["DateTimeParameter", "Parameter", "no_default"]

no_default = NoDefault.value


class Parameter(Task):
    """A flow input, given to ``flow.run(parameters={...})`` (or as keyword arguments).

    Args:
        name: the parameter's name, also its slug; unique within a flow.
        default: a JSON-compatible value used when a run gives none.
        required: a run must give a value; defaults to True when there is no default.
        tags: tags.
    """

    def __init__(self, name: str, default: Any = no_default, required: bool | None = None, tags: Iterable[str] | None = None) -> None:
        from prefect_storage.results.prefect import PrefectResult

        if required is None:
            required = default is no_default
        if default is no_default:
            default = None
        self.required = required
        self.default = default
        super().__init__(name=name, slug=name, tags=tags, result=PrefectResult(), checkpoint=True)

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"

    def __call__(self, flow: Flow | None = None) -> Parameter:  # type: ignore[override]
        """Add this parameter to ``flow`` (or the open flow); parameters take no inputs."""
        result = super().bind(flow=flow)
        assert isinstance(result, Parameter)
        return result

    def copy(self, name: str, **task_args: Any) -> Task:  # type: ignore[override]
        """A copy named (and slugged) ``name``."""
        return super().copy(name=name, slug=name, **task_args)

    def run(self) -> Any:
        params = _current().get("parameters") or {}
        if self.required and self.name not in params:
            from prefect_storage.core.signals import FAIL

            raise FAIL(f'Parameter "{self.name}" was required but not provided.')
        return params.get(self.name, self.default)

    def serialize(self) -> dict[str, Any]:
        """Classic ``ParameterSchema`` keys: type, name, slug, default, required, tags, outputs."""
        from prefect_storage.core.serialize import serialize_parameter

        return serialize_parameter(self)


class DateTimeParameter(Parameter):
    """A parameter whose value is a datetime (ISO strings are parsed). Required by
    default, even with a default value, as in the classic API."""

    def __init__(self, name: str, default: Any = no_default, required: bool = True, tags: Iterable[str] | None = None) -> None:
        super().__init__(name=name, default=default, required=required, tags=tags)
        from prefect_storage.results.prefect import PrefectResult
        from prefect_storage.serializers import DateTimeSerializer

        self.result = PrefectResult(serializer=DateTimeSerializer())

    def run(self) -> Any:
        value = super().run()
        if value is None:
            return None
        if isinstance(value, str):
            try:
                import pendulum

                return pendulum.parse(value)
            except ImportError:
                parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
        if isinstance(value, datetime.datetime):
            try:
                import pendulum

                return pendulum.instance(value)
            except ImportError:
                return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return value
