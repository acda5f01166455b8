"""Finding flows for ``prefect-storage register``: script files and importable modules,
with the classic default storages (scripts: ``Local(path=..., stored_as_script=True)``,
modules: ``Module(name)``)."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import importlib
import os
import runpy
import sys
import types
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow


@dataclasses.dataclass
class Source:
    """Where flows came from: a script path or a module name."""

    kind: str  # "path" | "module"
    name: str
    flows: list[Flow] = dataclasses.field(default_factory=list)


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Glob each path (``**`` allowed); a directory contributes the ``*.py`` files directly in it."""
    out: list[str] = []
    for pattern in paths:
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise click.ClickException(f"Path {pattern!r} doesn't exist")
        for match in matches:
            if os.path.isdir(match):
                out.extend(sorted(glob.glob(os.path.join(match, "*.py"))))
            else:
                out.append(match)
    return list(dict.fromkeys(os.path.abspath(p) for p in out))


@contextlib.contextmanager
def _script_dir_on_path(path: str) -> Iterator[None]:
    """Sibling imports of a script work at registration, as when it runs."""
    sys.path.insert(0, os.path.dirname(path))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(os.path.dirname(path))


def load_script(path: str) -> Source:
    """Run the script as a flow file and collect every Flow it defines."""
    from prefect_storage.core.context import context, loading
    from prefect_storage.core.flow import Flow

    with _script_dir_on_path(path), loading(), context(local_script_path=path):
        namespace = runpy.run_path(path, run_name="<flow>")
    flows = _unique(v for v in namespace.values() if isinstance(v, Flow))
    for flow in flows:
        if flow.storage is None:
            from prefect_storage.storage.local import Local

            flow.storage = Local(path=path, stored_as_script=True)
        _refuse_script_module_name(flow, path)
    return Source("path", path, flows)


def _refuse_script_module_name(flow: Any, path: str) -> None:
    """``Module(__name__)`` in a script run with ``--path`` records ``"<flow>"`` (the name the
    script runs under here), which no agent can import: refuse it now, not at run time."""
    from prefect_storage.storage.module import Module

    storage = flow.storage
    if isinstance(storage, Module) and storage.module.partition(":")[0] in {"<flow>", "__main__"}:
        raise click.ClickException(
            f"Flow {flow.name!r} in {path} uses Module(__name__), which is {storage.module!r} when the script is "
            "registered with --path, and no agent can import that. Either register it with --module "
            "pkg.module (so __name__ is the importable module name), write the module path explicitly "
            "(Module('pkg.module')), or use a storage that stores the script (e.g. Local(path=..., "
            "stored_as_script=True))."
        )


def load_module(name: str) -> Source:
    """Import ``pkg.mod`` (every Flow in it) or ``pkg.mod.flow_attr`` (that flow)."""
    from prefect_storage.core.context import loading
    from prefect_storage.core.flow import Flow

    with loading():
        obj, module_name = _import_object(name)
    if isinstance(obj, types.ModuleType):
        flows = _unique(v for v in vars(obj).values() if isinstance(v, Flow))
    elif isinstance(obj, Flow):
        flows = [obj]
    else:
        raise click.ClickException(f"Invalid object of type {type(obj).__name__!r} found at {name!r}. Expected Module or Flow.")
    for flow in flows:
        if flow.storage is None:
            from prefect_storage.storage.module import Module

            flow.storage = Module(module_name)
    return Source("module", name, flows)


def _import_object(name: str) -> tuple[object, str]:
    try:
        return importlib.import_module(name), name
    except ModuleNotFoundError as exc:
        module_name, _, attr = name.rpartition(".")
        if not module_name or exc.name not in {name, None}:
            raise click.ClickException(str(exc)) from None
        try:
            module = importlib.import_module(module_name)
        except ImportError as inner:
            raise click.ClickException(str(inner)) from None
        if not hasattr(module, attr):
            raise click.ClickException(f"No module named {name!r}") from None
        return getattr(module, attr), module_name


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
