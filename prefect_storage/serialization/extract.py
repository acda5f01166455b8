"""Find a flow in a script or a module (the classic ``prefect.utilities.storage`` helpers).

Both load through the one loader (:mod:`prefect_storage.serialization.loader`): a
script runs as ``"<flow>"``, as at registration, and a module string is an entrypoint
(``pkg.module``, ``pkg.module:attr``, or ``pkg.module.attr``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prefect_storage.context import loading

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["extract_flow_from_file", "extract_flow_from_module"]

def _flows_in(namespace: dict[str, Any]) -> dict[str, Flow]:
    from prefect_storage.core.flow import Flow

    found: dict[str, Flow] = {}
    for value in namespace.values():
        if isinstance(value, Flow):
            found.setdefault(value.name, value)
    return found


def extract_flow_from_file(
    file_path: str | os.PathLike[str] | None = None,
    file_contents: str | bytes | None = None,
    flow_name: str | None = None,
) -> Flow:
    """Run a flow script and return one of the flows it defines.

    Give ``file_path`` or ``file_contents`` (with both, the contents are run and
    ``__file__`` is the path, as storages that download a script do). ``__file__``
    points at ``file_path``, and the script's folder is importable while it runs, so
    it can read files and import modules beside it. ``flow.run()`` and
    ``flow.register()`` calls in the script are skipped.

    Returns the flow named ``flow_name``, or the first flow defined. Errors: no flow
    (``ValueError``), the named flow missing (``ValueError`` listing the flows found),
    and a script that fails to compile or run (:class:`FlowScriptError`, a
    :class:`FlowDeserializationError`, with the script's own exception as the cause).
    A missing ``file_path`` (without ``file_contents``) raises ``FileNotFoundError``.
    """
    if file_path is None and file_contents is None:
        raise ValueError("Provide either `file_path` or `file_contents`.")
    if file_contents is not None and not isinstance(file_contents, (str, bytes)):
        raise TypeError("`file_contents` must be string or bytes.")
    from prefect_storage.serialization.loader import CLASSIC_SCRIPT_NAME, run_script  # only scripts need it

    module = run_script(file_path, source=file_contents, run_name=CLASSIC_SCRIPT_NAME)
    flows = _flows_in(vars(module))
    if flow_name is not None:
        if flow_name not in flows:
            found = "\n".join(f"- {name!r}" for name in sorted(flows))
            raise ValueError(f"Flow {flow_name!r} not found in file. Found flows:\n{found}")
        return flows[flow_name]
    if not flows:
        raise ValueError("No flows found in file.")
    return next(iter(flows.values()))


def extract_flow_from_module(module_str: str, flow_name: str | None = None) -> Flow:
    """Import ``module`` or ``module:attr.path`` and return the flow there.

    An attribute that is callable is called with no arguments (a factory). Without
    an attribute, the module's flows are searched: by ``flow_name`` when given, else
    the only flow in it. Errors follow the classic messages; a module that is not
    installed raises :class:`FlowModuleNotFoundError` (a ``ModuleNotFoundError``).
    """
    from prefect_storage.core.flow import Flow
    from prefect_storage.serialization.entrypoint import find_named, load_target  # only modules need it

    loaded = load_target(module_str)
    module, attr = loaded.module, loaded.attribute
    if attr:
        try:
            obj = find_named(vars(module), attr)
        except (KeyError, AttributeError):
            raise ValueError(f"Failed to find flow at {module_str!r}") from None
        if callable(obj) and not isinstance(obj, Flow):
            with loading():
                obj = obj()
        if not isinstance(obj, Flow):
            raise TypeError(f"Object at {module_str!r} is a {type(obj)} not a `prefect_storage.Flow`")
        if flow_name is not None and obj.name != flow_name:
            raise ValueError(f"Flow at {module_str!r} is named {obj.name!r}, expected {flow_name!r}")
        return obj
    flows = _flows_in({name: getattr(module, name) for name in dir(module)})
    if flow_name is not None:
        if flow_name not in flows:
            raise ValueError(f"Failed to find flow {flow_name!r} in {module_str!r}")
        return flows[flow_name]
    if len(flows) > 1:
        raise ValueError(f"Multiple flows found in {module_str!r}, please provide `flow_name` to select one.")
    if not flows:
        raise ValueError(f"No flows found in {module_str!r}")
    return next(iter(flows.values()))
