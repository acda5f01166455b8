"""Classic ``prefect.tasks.powershell.powershell`` path."""

from prefect_storage.tasks.shell import PowershellTask

__all__ = ["PowershellTask"]
