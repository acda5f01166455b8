"""Classic ``prefect.utilities.configuration`` (implemented in :mod:`prefect_storage.core.configuration`)."""

from prefect_storage.core.configuration import set_temporary_config

__all__ = ["set_temporary_config"]
