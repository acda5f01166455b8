"""Classic ``prefect.engine.signals`` (implemented in :mod:`prefect_storage.core.signals`)."""

from prefect_storage.core.signals import (
    ENDRUN,
    FAIL,
    LOOP,
    PAUSE,
    RETRY,
    SKIP,
    SUCCESS,
    TRIGGERFAIL,
    VALIDATIONFAIL,
    PrefectStateSignal,
    signal_from_state,
)
from prefect_storage.exceptions import PrefectSignal

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "PrefectSignal",
    "PrefectStateSignal",
    "signal_from_state",
]
