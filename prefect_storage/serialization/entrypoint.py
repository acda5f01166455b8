"""The one entrypoint syntax, and loading the object an entrypoint names.

Three forms, accepted alike by ``prefect-storage register``, ``Module`` storage,
deployments run by an agent, ``prefect-storage deploy`` and ``flow.from_source()``:

* ``path/to/file.py:name`` — run the file (see :mod:`prefect_storage.serialization.loader`)
  and take ``name`` from it. ``name`` may be dotted (``Class.method``). The split is on
  the last colon, so Windows drive letters work. ``path/to/file.py`` alone is the
  whole script (registration: every flow it defines).
* ``pkg.module:name`` — import the module and take ``name``.
* ``pkg.module`` — the classic form: the whole module (``Module`` storage,
  ``register --module``); when no module has that name, the last part is taken as an
  attribute of its parent (``pkg.module.name``).

::

    obj = load_entrypoint("flows/etl.py:my_flow", base_dir="/tmp/checkout")

When no attribute is called ``name``, a flow whose own name is ``name`` is looked
for (classic scripts bind ``with Flow("etl") as flow``, so the flow's name is what a
user knows). A missing name raises :class:`MissingFlowError` listing what the file
defines; a script that fails raises :class:`FlowScriptError` (an :class:`EntrypointError`)
naming the file and the line it failed at.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from prefect_storage.exceptions import EntrypointError, FlowModuleNotFoundError, MissingFlowError
from prefect_storage.serialization.loader import import_module, run_script

__all__ = [
    "Target",
    "find_named",
    "load_entrypoint",
    "load_module",
    "load_target",
    "named_in",
    "parse_entrypoint",
    "relative_entrypoint",
    "split_entrypoint",
]

_FORMS = "use 'path/to/file.py:flow_name' or 'package.module:flow_name'"


def _is_file(target: str) -> bool:
    return target.endswith(".py") or "/" in target or os.sep in target


def parse_entrypoint(entrypoint: str) -> tuple[str, str | None, bool]:
    """``(file_or_module, attribute or None, is_file)``: the one entrypoint syntax.

    ``attribute`` is ``None`` for a whole script (``file.py``) or module (``pkg.module``)."""
    if not isinstance(entrypoint, str) or not entrypoint.strip():
        raise EntrypointError(f"Entrypoint {entrypoint!r} is empty; {_FORMS}.")
    entrypoint = entrypoint.strip()
    if ":" in entrypoint:
        left, _, name = entrypoint.rpartition(":")
        if left and name and not (len(left) == 1 and left.isalpha()):  # not just a drive letter
            return left, name, _is_file(left)
        if not name:
            raise EntrypointError(f"Entrypoint {entrypoint!r} names no object after the colon; {_FORMS}.")
    return entrypoint, None, _is_file(entrypoint)


def split_entrypoint(entrypoint: str) -> tuple[str, str, bool]:
    """``(file_or_module, attribute, is_file)`` for an entrypoint that names an object
    (``pkg.module.name`` is read as module ``pkg.module``, attribute ``name``)."""
    target, name, is_file = parse_entrypoint(entrypoint)
    if name is not None:
        return target, name, is_file
    left, dot, last = target.rpartition(".")
    if dot and left and last and not is_file:
        return left, last, False
    raise EntrypointError(f"Entrypoint {entrypoint!r} does not name an object; {_FORMS}.")


@dataclasses.dataclass
class Target:
    """What an entrypoint loaded: the module, the name it runs under (importable for a
    module, a script name for a file), the attribute asked for (``None``: the whole
    module) and how to name it in messages."""

    module: ModuleType
    module_name: str
    attribute: str | None
    where: str


def _existing_file(path: str | os.PathLike[str]) -> str:
    where = os.path.abspath(os.fspath(path))
    if not os.path.isfile(where):
        raise EntrypointError(
            f"Entrypoint file {where} does not exist. Check the entrypoint's path: it is relative to the "
            "folder the code was pulled into (the last `directory` of the pull steps)."
        )
    return where


def load_module(path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None) -> ModuleType:
    """Run the Python file ``path`` as a fresh module under a unique name and return it."""
    return run_script(_existing_file(path), base_dir=base_dir)


def load_target(
    entrypoint: str, base_dir: str | os.PathLike[str] | None = None, *, run_name: str | None = None
) -> Target:
    """Load what ``entrypoint`` names, in any of the three forms.

    Args:
        entrypoint: ``path/to/file.py[:name]``, ``pkg.module:name`` or ``pkg.module[.name]``.
        base_dir: relative paths are taken from it, and it (and the cwd) is importable while
            the code loads. Without it: paths are relative to the cwd and imports use
            ``sys.path`` as it is.
        run_name: the ``__name__`` a script runs under (see :func:`~.loader.run_script`).
    """
    target, name, is_file = parse_entrypoint(entrypoint)
    base = os.path.abspath(os.fspath(base_dir)) if base_dir is not None else None
    if is_file:
        path = _existing_file(os.path.join(base or os.getcwd(), target))
        module = run_script(path, run_name=run_name, base_dir=base)
        return Target(module, module.__name__, name, path)
    folders = (base, os.getcwd()) if base is not None else ()
    if name is None and "." in target:
        try:
            module = import_module(target, *folders)
        except FlowModuleNotFoundError as exc:
            if exc.name != target:
                raise
            # ``pkg.module.name``: an attribute of the parent module, if it has one
            parent, _, last = target.rpartition(".")
            module = import_module(parent, *folders)
            if not hasattr(module, last):
                raise exc from None
            target, name = parent, last
    else:
        module = import_module(target, *folders)
    return Target(module, target, name, f"module {target!r}")


def _flow_like(value: Any) -> bool:
    from prefect_storage.core.flow import Flow

    return isinstance(value, Flow) or getattr(value, "__prefect_storage_modern_flow__", False)


def find_named(namespace: dict[str, Any], name: str) -> Any:
    """``namespace[name]`` (dotted for attributes), else the flow whose name is ``name``."""
    head, *rest = name.split(".")
    if head in namespace:
        obj = namespace[head]
        for part in rest:
            obj = getattr(obj, part)
        return obj
    matches = [v for v in namespace.values() if _flow_like(v) and getattr(v, "name", None) == name]
    if matches:
        return matches[0]
    raise KeyError(name)


def load_entrypoint(entrypoint: str, base_dir: str | os.PathLike[str] | None = None) -> Any:
    """The object ``entrypoint`` names, loaded relative to ``base_dir`` (default: the cwd)."""
    split_entrypoint(entrypoint)  # an entrypoint to run must name an object
    loaded = load_target(entrypoint, base_dir if base_dir is not None else os.getcwd())
    if loaded.attribute is None:  # ``pkg.module.name`` where ``pkg.module.name`` is a module
        raise EntrypointError(f"Entrypoint {entrypoint!r} names a module, not an object in it; {_FORMS}.")
    return named_in(loaded)


def named_in(loaded: Target) -> Any:
    """``loaded.attribute`` in the loaded module (see :func:`find_named`), else a
    :class:`MissingFlowError` listing the flows the module defines."""
    name = loaded.attribute or ""
    namespace = vars(loaded.module)
    try:
        return find_named(namespace, name)
    except (KeyError, AttributeError):
        flows = sorted({str(getattr(v, "name", k)) + f" (as {k})" for k, v in namespace.items() if _flow_like(v)})
        found = f" It defines these flows: {', '.join(flows)}." if flows else " It defines no flow."
        raise MissingFlowError(f"Flow function with name {name!r} not found in {loaded.where}.{found}") from None


def relative_entrypoint(path: str | os.PathLike[str], name: str, root: str | os.PathLike[str]) -> str:
    """``relative/path.py:name`` for a file under ``root`` (posix separators)."""
    rel = Path(os.path.abspath(os.fspath(path))).relative_to(os.path.abspath(os.fspath(root)))
    return f"{rel.as_posix()}:{name}"
