"""Classic ``prefect.client.secrets``: ``Secret(name).get()`` over :mod:`prefect_storage.secrets`."""

from prefect_storage.secrets import Secret

__all__ = ["Secret"]
