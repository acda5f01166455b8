"""Classic ``prefect.serialization.schedule``: ``ScheduleSchema`` and ``ClockSchema``.

Classic used marshmallow schemas; these keep their ``dump``/``load`` calls over the
plain-dict serialization of :mod:`prefect_storage.core.schedules.serialization`.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.core.schedules import serialization as _impl


class ClockSchema:
    """``ClockSchema().dump(clock) -> dict`` and ``ClockSchema().load(dict) -> clock``."""

    def dump(self, obj: Any) -> dict[str, Any]:
        return _impl.serialize_clock(obj)

    def load(self, data: dict[str, Any]) -> Any:
        return _impl.deserialize_clock(data)


class ScheduleSchema:
    """``ScheduleSchema().dump(schedule) -> dict`` and ``ScheduleSchema().load(dict) -> schedule``."""

    def dump(self, obj: Any) -> dict[str, Any]:
        return _impl.serialize_schedule(obj)

    def load(self, data: dict[str, Any]) -> Any:
        return _impl.deserialize_schedule(data)


__all__ = ["ClockSchema", "ScheduleSchema"]
