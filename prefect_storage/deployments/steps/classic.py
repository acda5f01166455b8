"""``load_classic_flow``: run a classic flow that has no source to pull (a pickle).

A classic flow stored pickled (``Local``, ``S3``, ``Docker``... without
``stored_as_script``) has no file an entrypoint could name. Its deployment's pull
steps load it from its classic storage instead::

    pull:
    - prefect_storage.deployments.steps.load_classic_flow:
        storage: {<the storage's serialize() output>}
        flow_name: etl
    entrypoint: prefect_storage.deployments.steps.classic:loaded_flow

``loaded_flow`` is the flow the last ``load_classic_flow`` step loaded in this process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ENTRYPOINT", "load_classic_flow"]

ENTRYPOINT = "prefect_storage.deployments.steps.classic:loaded_flow"


def load_classic_flow(storage: Mapping[str, Any], flow_name: str) -> dict[str, str]:
    """Load ``flow_name`` from the classic storage ``storage`` (``Storage.serialize()``
    output; secrets stay ``$NAME`` templates, resolved here). Returns ``{"flow_name"}``."""
    from prefect_storage.storage import Storage

    flow = Storage.deserialize(dict(storage)).get_flow(flow_name)
    globals()["loaded_flow"] = flow  # what the entrypoint ...steps.classic:loaded_flow names
    return {"flow_name": flow.name}
