"""Classic ``prefect.engine.runner`` (implemented in :mod:`prefect_storage.core.runner`)."""

from prefect_storage.core.runner import ENDRUN, Runner, call_state_handlers

__all__ = ["ENDRUN", "Runner", "call_state_handlers"]
