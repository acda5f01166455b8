"""Classic ``prefect.client``: ``Secret`` over the project's secret chain.

``Client`` (the Prefect Server/Cloud API client) is not provided: flows reach the
prefect-storage registry through ``prefect_storage.registry`` instead. The name can
be imported, so a script that imports it without calling it still runs; making a
``Client()`` raises :class:`~prefect_storage.exceptions.ClassicNotProvidedError`
saying what to use instead.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.client.secrets import Secret

__all__ = ["Client", "Secret"]


class Client:
    """The classic Prefect Server/Cloud API client: not provided by prefect_storage.

    Creating one raises :class:`~prefect_storage.exceptions.ClassicNotProvidedError`:
    register flows with ``flow.register()``, start runs with
    ``prefect_storage.tasks.prefect.create_flow_run`` or ``prefect-storage run``, and
    read them with ``prefect_storage.backend.FlowRunView``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from prefect_storage._not_provided import missing_name

        raise missing_name("prefect_storage", "Client", "the Prefect Server/Cloud API client")
