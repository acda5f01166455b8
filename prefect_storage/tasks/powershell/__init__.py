"""Classic ``prefect.tasks.powershell``: :class:`PowershellTask` (in :mod:`prefect_storage.tasks.shell`)."""

from prefect_storage.tasks.shell import PowershellTask

__all__ = ["PowershellTask"]
