"""Finding flows for ``prefect-storage register`` and ``build``: script files and
importable modules, with the classic default storages (scripts: ``Local(path=...,
stored_as_script=True)``, modules: ``Module(name)``).

Loading goes through the one loader (:mod:`prefect_storage.serialization.entrypoint`),
with its one syntax: ``--path`` takes ``path/to/file.py`` (every flow in it) or
``path/to/file.py:name``, ``--module`` takes ``pkg.module`` (every flow in it),
``pkg.module:name`` or ``pkg.module.name``. Scripts run as ``"<flow>"``, as classic
``prefect register`` ran them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.serialization.entrypoint import Target


@dataclasses.dataclass
class Source:
    """Where flows came from: a script path or a module name."""

    kind: str  # "path" | "module"
    name: str
    flows: list[Flow] = dataclasses.field(default_factory=list)


def _split_name(pattern: str) -> tuple[str, str]:
    """``("path/to/*.py", ":name")`` for ``path/to/*.py:name``; ``(pattern, "")`` otherwise."""
    from prefect_storage.serialization.entrypoint import parse_entrypoint

    if glob.glob(pattern, recursive=True):
        return pattern, ""
    with contextlib.suppress(Exception):
        target, name, is_file = parse_entrypoint(pattern)
        if is_file and name:
            return target, f":{name}"
    return pattern, ""


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Glob each path (``**`` allowed); a directory contributes the ``*.py`` files directly in it.
    A ``:name`` suffix (one flow of the script) is kept on each file."""
    out: list[str] = []
    for given in paths:
        pattern, name = _split_name(given)
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise click.ClickException(f"Path {given!r} doesn't exist")
        for match in matches:
            if os.path.isdir(match):
                out.extend(os.path.abspath(p) + name for p in sorted(glob.glob(os.path.join(match, "*.py"))))
            else:
                out.append(os.path.abspath(match) + name)
    return list(dict.fromkeys(out))


def script_file(item: str) -> str:
    """The file of a ``--path`` item (``path/to/file.py`` or ``path/to/file.py:name``)."""
    return _split_name(item)[0]


def load_script(path: str) -> Source:
    """Run the script as a flow file and collect every Flow it defines (or the one named)."""
    from prefect_storage.context import context
    from prefect_storage.serialization.entrypoint import load_target
    from prefect_storage.serialization.loader import CLASSIC_SCRIPT_NAME

    file = script_file(path)
    with context(local_script_path=file):
        loaded = load_target(path, run_name=CLASSIC_SCRIPT_NAME)
    flows = _flows(loaded, path)
    for flow in flows:
        if flow.storage is None:
            from prefect_storage.storage.local import Local

            flow.storage = Local(path=file, stored_as_script=True)
        _refuse_script_module_name(flow, file)
    return Source("path", path, flows)


def _refuse_script_module_name(flow: Any, path: str) -> None:
    """``Module(__name__)`` in a script run with ``--path`` records ``"<flow>"`` (the name the
    script runs under here), which no agent can import: refuse it now, not at run time."""
    from prefect_storage.storage.module import Module

    storage = flow.storage
    if isinstance(storage, Module):
        storage.check_importable(f"Flow {flow.name!r} in {path}")


def load_module(name: str) -> Source:
    """Import ``pkg.mod`` (every Flow in it), ``pkg.mod:flow_attr`` or ``pkg.mod.flow_attr`` (that flow)."""
    from prefect_storage.exceptions import FlowModuleNotFoundError, MissingFlowError
    from prefect_storage.serialization.entrypoint import load_target

    try:
        loaded = load_target(name)
        flows = _flows(loaded, name)
    except (FlowModuleNotFoundError, MissingFlowError) as exc:  # classic: a terminal error
        raise click.ClickException(str(exc)) from None
    for flow in flows:
        if flow.storage is None:
            from prefect_storage.storage.module import Module

            flow.storage = Module(loaded.module_name)
    return Source("module", name, flows)


def _flows(loaded: Target, name: str) -> list[Flow]:
    """Every flow of a whole script or module, or the one flow its entrypoint names."""
    from prefect_storage.core.flow import Flow
    from prefect_storage.serialization.entrypoint import named_in

    if loaded.attribute is None:
        return _unique(v for v in vars(loaded.module).values() if isinstance(v, Flow))
    obj = named_in(loaded)
    if not isinstance(obj, Flow):
        raise click.ClickException(f"Invalid object of type {type(obj).__name__!r} found at {name!r}. Expected Module or Flow.")
    return [obj]


def _unique(flows: Iterable[Flow]) -> list[Flow]:
    seen: dict[int, Flow] = {}
    for flow in flows:
        seen.setdefault(id(flow), flow)
    return list(seen.values())


def module_file(name: str) -> str | None:
    """The file of module ``name`` (or of the module holding ``name``), for --watch."""
    import importlib.util

    for candidate in (name, name.rpartition(".")[0]):
        if not candidate:
            continue
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(candidate)
            if spec is not None and spec.origin and os.path.exists(spec.origin):
                return spec.origin
    return None
