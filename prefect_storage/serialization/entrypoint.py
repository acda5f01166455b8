"""Load the object an *entrypoint* names: ``path/to/file.py:name`` or ``pkg.module:name``.

This is the one loader behind ``flow.from_source()``, deployments run by an agent and
``prefect-storage deploy``::

    obj = load_entrypoint("flows/etl.py:my_flow", base_dir="/tmp/checkout")

* ``path/to/file.py:name`` runs the file under a unique module name (never
  ``__main__``, so ``if __name__ == "__main__":`` blocks stay off), with the script's
  folder and ``base_dir`` importable while it runs; ``sys.path`` is restored after.
  ``name`` may be dotted (``Class.method``). The split is on the last colon, so
  Windows drive letters work.
* ``pkg.module:name`` (or ``pkg.module.name``) imports the module with ``base_dir``
  importable.

When no attribute is called ``name``, a flow whose own name is ``name`` is looked
for (classic scripts bind ``with Flow("etl") as flow``, so the flow's name is what a
user knows). A missing name raises :class:`MissingFlowError` listing what the file
defines; a script that fails raises :class:`EntrypointError` naming the file and the
line it failed at.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import importlib.util
import itertools
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from prefect_storage.exceptions import EntrypointError, MissingFlowError

__all__ = ["find_named", "load_entrypoint", "load_module", "split_entrypoint"]

_counter = itertools.count(1)
_path_lock = threading.RLock()  # sys.path is process-global: one loader changes it at a time


def split_entrypoint(entrypoint: str) -> tuple[str, str, bool]:
    """``(file_or_module, attribute, is_file)`` for an entrypoint string."""
    if not isinstance(entrypoint, str) or not entrypoint.strip():
        raise EntrypointError(
            f"Entrypoint {entrypoint!r} is empty; use 'path/to/file.py:flow_name' or 'package.module:flow_name'."
        )
    entrypoint = entrypoint.strip()
    if ":" in entrypoint:
        left, _, name = entrypoint.rpartition(":")
        if left and name and not (len(left) == 1 and left.isalpha()):  # not just a drive letter
            is_file = left.endswith(".py") or "/" in left or os.sep in left
            return left, name, is_file
    left, dot, name = entrypoint.rpartition(".")
    if dot and left and name and not entrypoint.endswith(".py"):
        return left, name, False
    raise EntrypointError(
        f"Entrypoint {entrypoint!r} does not name an object; use 'path/to/file.py:flow_name' or "
        "'package.module:flow_name'."
    )


@contextlib.contextmanager
def _importable(*folders: str | None) -> Iterator[None]:
    """Put ``folders`` first on ``sys.path`` for the duration, then restore it exactly.

    A module the code imports from these folders (``import helpers`` beside the script)
    must be *that* file even when a module of the same name was imported earlier from
    elsewhere: such entries of ``sys.modules`` are set aside while the code loads and put
    back afterwards (the loaded code keeps references to its own siblings)."""
    chosen = [f for f in folders if f]
    with _path_lock:
        saved = list(sys.path)
        shadowed = _shadowed_modules(chosen)
        for name in shadowed:
            del sys.modules[name]
        for folder in reversed(chosen):
            sys.path.insert(0, folder)
        try:
            yield
        finally:
            sys.path[:] = saved
            sys.modules.update(shadowed)


#: never set aside: the standard library and this package (a project file named like them
#: would break the loader itself while it runs)
_NEVER_SHADOWED = frozenset(sys.stdlib_module_names) | {"prefect_storage"}


def _shadowed_modules(folders: list[str]) -> dict[str, ModuleType]:
    """Entries of ``sys.modules`` (and their submodules) named like a module or package in
    ``folders`` but loaded from another place."""
    local: dict[str, str] = {}
    for folder in folders:
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                stem = entry.name[:-3] if entry.name.endswith(".py") else entry.name if entry.is_dir() else None
                if stem and stem.isidentifier():
                    local.setdefault(stem, os.path.realpath(entry.path))
    found: dict[str, ModuleType] = {}
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if top not in local or module is None or top in _NEVER_SHADOWED:
            continue
        origin = getattr(module, "__file__", None)
        real = os.path.realpath(origin) if origin else ""
        if not (real == local[top] or real.startswith(local[top] + os.sep)):
            found[name] = module
    return found


def _failure_line(exc: BaseException, path: str) -> int | None:
    if isinstance(exc, SyntaxError) and exc.filename and os.path.abspath(exc.filename) == path:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and os.path.abspath(frame.filename) == path:
            line = frame.lineno
    return line


def load_module(path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None) -> ModuleType:
    """Run the Python file ``path`` as a fresh module under a unique name and return it."""
    from prefect_storage.context import loading

    where = os.path.abspath(os.fspath(path))
    if not os.path.isfile(where):
        raise EntrypointError(
            f"Entrypoint file {where} does not exist. Check the entrypoint's path: it is relative to the "
            "folder the code was pulled into (the last `directory` of the pull steps)."
        )
    digest = hashlib.sha1(where.encode()).hexdigest()[:12]
    name = f"__prefect_storage_entrypoint_{digest}_{next(_counter)}__"
    # an explicit source loader: classic script locations need not end in .py
    spec = importlib.util.spec_from_file_location(name, where, loader=importlib.machinery.SourceFileLoader(name, where))
    if spec is None or spec.loader is None:
        raise EntrypointError(f"Entrypoint file {where} cannot be loaded as Python source.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses, typing and pickling look the module up by name
    try:
        with loading(), _importable(os.path.dirname(where), os.fspath(base_dir) if base_dir else None):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        line = _failure_line(exc, where)
        at = f", line {line}" if line else ""
        hint = ""
        if isinstance(exc, ImportError):
            hint = " A module it imports is missing here: install it where the flow runs (pip_install_requirements step)."
        raise EntrypointError(f"Loading {where}{at} failed: {type(exc).__name__}: {exc}.{hint}") from exc
    return module


def _import_module(module_name: str, base_dir: str | None) -> ModuleType:
    from prefect_storage.context import loading

    try:
        with loading(), _importable(base_dir, os.getcwd()):
            return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise EntrypointError(
                f"Entrypoint module {module_name!r} cannot be imported: {exc}. Install its package where the flow "
                "runs, or use a 'path/to/file.py:name' entrypoint."
            ) from exc
        raise _module_failure(module_name, exc) from exc
    except Exception as exc:
        raise _module_failure(module_name, exc) from exc


def _module_failure(module_name: str, exc: BaseException) -> EntrypointError:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return EntrypointError(f"Importing entrypoint module {module_name!r} failed{where}: {type(exc).__name__}: {exc}")


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
    target, name, is_file = split_entrypoint(entrypoint)
    base = os.path.abspath(os.fspath(base_dir)) if base_dir is not None else os.getcwd()
    if is_file:
        path = target if os.path.isabs(target) else os.path.join(base, target)
        module = load_module(path, base)
        where = os.path.abspath(path)
    else:
        module = _import_module(target, base)
        where = f"module {target!r}"
    try:
        return find_named(vars(module), name)
    except (KeyError, AttributeError):
        flows = sorted(
            {str(getattr(v, "name", k)) + f" (as {k})" for k, v in vars(module).items() if _flow_like(v)}
        )
        found = f" It defines these flows: {', '.join(flows)}." if flows else " It defines no flow."
        raise MissingFlowError(f"Flow function with name {name!r} not found in {where}.{found}") from None


def relative_entrypoint(path: str | os.PathLike[str], name: str, root: str | os.PathLike[str]) -> str:
    """``relative/path.py:name`` for a file under ``root`` (posix separators)."""
    rel = Path(os.path.abspath(os.fspath(path))).relative_to(os.path.abspath(os.fspath(root)))
    return f"{rel.as_posix()}:{name}"
