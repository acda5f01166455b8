"""Find a flow in a script or a module (the classic ``prefect.utilities.storage`` helpers)."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from prefect_storage.core.context import loading
from prefect_storage.exceptions import FlowDeserializationError, FlowModuleNotFoundError

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["extract_flow_from_file", "extract_flow_from_module"]

# The name scripts run under: not "__main__", so `if __name__ == "__main__":` blocks
# stay off, and not importable, so cloudpickle pickles the script's functions by value.
SCRIPT_MODULE_NAME = "__prefect_storage_flow_script__"


@contextlib.contextmanager
def _importable(folder: str | None) -> Iterator[None]:
    """Put ``folder`` first on ``sys.path`` while a script runs, so it can import its siblings."""
    if not folder or folder in sys.path:
        yield
        return
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


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
    and a script that fails to compile or run (:class:`FlowDeserializationError`,
    with the script's own exception as the cause).
    """
    if file_path is None and file_contents is None:
        raise ValueError("Provide either `file_path` or `file_contents`.")
    if file_contents is not None and not isinstance(file_contents, (str, bytes)):
        raise TypeError("`file_contents` must be string or bytes.")
    where = os.fspath(file_path) if file_path is not None else "<flow script>"
    if file_contents is None:
        with open(where, "rb") as fh:
            file_contents = fh.read()
    try:
        # compile() on bytes honours PEP 263 coding declarations, like `python script.py`
        code = compile(file_contents, where, "exec")
    except SyntaxError as exc:
        hint = ""
        if "codec can't decode" in str(exc):
            hint = " Save the script as UTF-8, or declare its encoding on the first line (# -*- coding: latin-1 -*-)."
        raise FlowDeserializationError(f"Flow script {where} cannot be compiled: {exc}.{hint}") from exc
    namespace: dict[str, Any] = {"__name__": SCRIPT_MODULE_NAME, "__builtins__": __builtins__}
    if file_path is not None:
        namespace["__file__"] = where
    folder = os.path.dirname(os.path.abspath(where)) if file_path is not None else None
    try:
        with loading(), _importable(folder):
            exec(code, namespace)
    except SystemExit as exc:
        raise FlowDeserializationError(
            f"Flow script {where} called sys.exit({exc.code!r}) while it was loaded. Guard the code that exits "
            "with `if __name__ == \"__main__\":` so that loading the script only defines the flow."
        ) from None
    except Exception as exc:
        hint = ""
        if isinstance(exc, ImportError):
            hint = " A module it imports is missing here: install it where the flow is loaded."
        raise FlowDeserializationError(f"Running flow script {where} failed: {exc!r}.{hint}") from exc
    flows = _flows_in(namespace)
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
    the only flow in it. Errors follow the classic messages.
    """
    from prefect_storage.core.flow import Flow

    module_name, _, attr = module_str.partition(":")
    with loading():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or module_name
            own = module_name == missing or module_name.startswith(missing + ".")
            error = FlowModuleNotFoundError(
                f"Cannot load the flow from module {module_str!r}: "
                + (
                    f"no module named {missing!r} is installed here. Install the package that holds the flow "
                    "where it runs (the agent's environment), or check the module path."
                    if own
                    else f"it imports {missing!r}, which is not installed here. Install it where the flow runs."
                )
            )
            error.name = missing
            raise error from None
        if attr:
            try:
                obj = attrgetter(attr)(module)
            except AttributeError:
                raise ValueError(f"Failed to find flow at {module_str!r}") from None
            if callable(obj) and not isinstance(obj, Flow):
                obj = obj()
    if attr:
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
