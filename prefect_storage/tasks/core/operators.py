"""Operator tasks built by task expressions (``t + 1``, ``t[0]``, ``t.not_()``...);
classic ``prefect.tasks.core.operators``."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from prefect_storage.core.task import NoDefault, Task
from prefect_storage.core.utilities import defaults_from_attrs

__all__ = ["Add", "And", "Div", "Equal", "FloorDiv", "GetAttr", "GetItem", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Mod", "Mul", "Not", "NotEqual", "Or", "Pow", "Sub"]


class GetItem(Task):
    """``task_result[key]``; returns ``default`` (if given) on ``KeyError``."""

    def __init__(self, default: Any = NoDefault.value, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    @defaults_from_attrs("default")
    def run(self, task_result: Any, key: Any, default: Any = NoDefault.value) -> Any:  # type: ignore[override]
        try:
            return task_result[key]
        except KeyError:
            if default is NoDefault.value:
                raise
            return default


class GetAttr(Task):
    """``task_result.attr`` (dotted names allowed); returns ``default`` on ``AttributeError``."""

    def __init__(self, default: Any = NoDefault.value, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    @defaults_from_attrs("default")
    def run(self, task_result: Any, attr: Any, default: Any = NoDefault.value) -> Any:  # type: ignore[override]
        try:
            return attrgetter(attr)(task_result)
        except AttributeError:
            if default is NoDefault.value:
                raise
            return default


class Not(Task):
    """``not x``."""

    def run(self, x: Any) -> bool:  # type: ignore[override]
        return not x


class Add(Task):
    """Add two values."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x + y


class Sub(Task):
    """Subtract."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x - y


class Mul(Task):
    """Multiply."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x * y


class Div(Task):
    """Divide."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x / y


class FloorDiv(Task):
    """Floor-divide."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x // y


class Pow(Task):
    """Raise to a power."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x**y


class Mod(Task):
    """Modulo."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x % y


class And(Task):
    """``x and y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x and y


class Or(Task):
    """``x or y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x or y


class Equal(Task):
    """``x == y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x == y


class NotEqual(Task):
    """``x != y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x != y


class GreaterThan(Task):
    """``x > y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x > y


class GreaterThanOrEqual(Task):
    """``x >= y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x >= y


class LessThan(Task):
    """``x < y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x < y


class LessThanOrEqual(Task):
    """``x <= y``."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x <= y
