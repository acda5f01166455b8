"""The one script and module loader: every flow script and flow module is loaded here.

Registration (``prefect-storage register --path/--module``), stored script flows
(``extract_flow_from_file`` / ``extract_flow_from_module``) and entrypoints
(``load_entrypoint``: deployments, ``flow.from_source()``) all go through
:func:`run_script` and :func:`import_module`, so a script sees the same world
wherever it is loaded:

* it runs as a fresh module, never as ``__main__``: ``if __name__ == "__main__":``
  blocks stay off. Classic scripts (registered or stored) run as ``"<flow>"`` (the
  classic name: ``Task`` subclasses defined there serialize as ``<flow>.MyTask`` on
  every registration), entered in ``sys.modules`` only while they run, so that
  cloudpickle pickles their functions by value. Entrypoint scripts run under a unique
  name that stays in ``sys.modules`` (dataclasses, typing and pydantic look the module
  up by name while the flow runs);
* its folder (and ``base_dir``) is first on ``sys.path`` while it runs, and a module
  it imports from there is *that* file even when a module of the same name was
  imported earlier from elsewhere (such entries of ``sys.modules`` are set aside, then
  put back); ``sys.path`` is restored exactly afterwards;
* it runs inside :func:`prefect_storage.context.loading`, so ``flow.run()`` and
  ``flow.register()`` calls in it are skipped;
* a failure is a typed error naming the file and the line (:class:`FlowScriptError`);
  a module that is not installed is a :class:`FlowModuleNotFoundError`.

``sys.path`` and ``sys.modules`` are process-global: one load changes them at a time
(a re-entrant lock, so a script may load another while it runs).
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
import types
from collections.abc import Iterator

from prefect_storage.exceptions import FlowModuleNotFoundError, FlowScriptError

__all__ = [
    "CLASSIC_SCRIPT_NAME",
    "import_module",
    "importable",
    "is_script_module_name",
    "run_script",
]

#: The name classic scripts run under, as ``prefect register`` ran them: not
#: ``__main__`` and not importable.
CLASSIC_SCRIPT_NAME = "<flow>"
#: Entrypoint scripts run as ``<prefix><path digest>_<n>__``: unique per load.
_UNIQUE_PREFIX = "__prefect_storage_entrypoint_"

_counter = itertools.count(1)
_lock = threading.RLock()  # sys.path / sys.modules are process-global: one loader changes them at a time

#: never set aside: the standard library and this package (a project file named like them
#: would break the loader itself while it runs)
_NEVER_SHADOWED = frozenset(sys.stdlib_module_names) | {"prefect_storage"}


def is_script_module_name(name: str) -> bool:
    """Whether ``name`` is one a script runs under here (``"<flow>"``, a unique entrypoint
    name) or ``"__main__"``: the ``__name__`` of a script, which no other process can import."""
    return name in {CLASSIC_SCRIPT_NAME, "__main__"} or name.startswith(_UNIQUE_PREFIX)


@contextlib.contextmanager
def importable(*folders: str | None) -> Iterator[None]:
    """Put ``folders`` first on ``sys.path`` for the duration, then restore it exactly.

    A module the code imports from these folders (``import helpers`` beside the script)
    must be *that* file even when a module of the same name was imported earlier from
    elsewhere: such entries of ``sys.modules`` are set aside while the code loads and put
    back afterwards (the loaded code keeps references to its own siblings)."""
    chosen = [f for f in folders if f]
    with _lock:
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


def _shadowed_modules(folders: list[str]) -> dict[str, types.ModuleType]:
    """Entries of ``sys.modules`` (and their submodules) named like a module or package in
    ``folders`` but loaded from another place."""
    local: dict[str, str] = {}
    for folder in folders:
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                stem = entry.name[:-3] if entry.name.endswith(".py") else entry.name if entry.is_dir() else None
                if stem and stem.isidentifier():
                    local.setdefault(stem, os.path.realpath(entry.path))
    found: dict[str, types.ModuleType] = {}
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if top not in local or module is None or top in _NEVER_SHADOWED:
            continue
        origin = getattr(module, "__file__", None)
        real = os.path.realpath(origin) if origin else ""
        if not (real == local[top] or real.startswith(local[top] + os.sep)):
            found[name] = module
    return found


def _failure_line(exc: BaseException, filename: str) -> int | None:
    """The last line of ``filename`` in the traceback (or the SyntaxError's line)."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _new_module(name: str, path: str | None) -> types.ModuleType:
    """An empty module called ``name``; with ``path``, one with a spec for that file, as
    an import makes (``__file__``, ``__spec__``, ``__loader__``: ``inspect`` finds the source)."""
    if path is None:
        return types.ModuleType(name)
    # an explicit source loader: classic script locations need not end in .py
    spec = importlib.util.spec_from_file_location(name, path, loader=importlib.machinery.SourceFileLoader(name, path))
    if spec is None:  # pragma: no cover - spec_from_file_location with a loader always answers
        raise FlowScriptError(f"Flow script {path} cannot be loaded as Python source.")
    return importlib.util.module_from_spec(spec)


@contextlib.contextmanager
def _registered(module: types.ModuleType, keep: bool) -> Iterator[None]:
    """``module`` in ``sys.modules`` under its name while the code runs; afterwards it
    stays (``keep``) or the previous entry is put back, as :mod:`runpy` does."""
    name = module.__name__
    previous = sys.modules.get(name)
    sys.modules[name] = module
    ok = False
    try:
        yield
        ok = True
    finally:
        if not (keep and ok):
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


def _compile(source: bytes | str, filename: str) -> types.CodeType:
    try:
        # compile() on bytes honours PEP 263 coding declarations, like `python script.py`
        return compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        hint = ""
        if "codec can't decode" in str(exc):
            hint = " Save the script as UTF-8, or declare its encoding on the first line (# -*- coding: latin-1 -*-)."
        raise FlowScriptError(f"Flow script {filename} cannot be compiled: {exc}.{hint}") from exc


def run_script(
    path: str | os.PathLike[str] | None = None,
    *,
    source: bytes | str | None = None,
    run_name: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> types.ModuleType:
    """Run a flow script as a fresh module and return the module.

    Args:
        path: the script's file. Its folder is importable while it runs and
            ``__file__`` is set to it. Read when ``source`` is not given (a missing
            file raises ``FileNotFoundError``).
        source: the script's text (``bytes`` honour a PEP 263 coding line), for a
            script downloaded from a storage; ``path`` then only names it.
        run_name: the ``__name__`` to run under, entered in ``sys.modules`` only while
            the script runs (:data:`CLASSIC_SCRIPT_NAME` for classic scripts). Without
            it: a unique name that stays in ``sys.modules``.
        base_dir: a project folder importable too (entrypoints: where the code was pulled).

    Raises:
        FlowScriptError: the script does not compile, raises, or calls ``sys.exit()``;
            the cause is the script's own exception.
    """
    from prefect_storage.context import loading

    if path is None and source is None:
        raise ValueError("Provide either `file_path` or `file_contents`.")
    where = os.path.abspath(os.fspath(path)) if path is not None else None
    filename = where or "<flow script>"
    if source is None:
        assert where is not None
        with open(where, "rb") as fh:
            source = fh.read()
    code = _compile(source, filename)
    keep = run_name is None
    if run_name is None:
        digest = hashlib.sha1(filename.encode()).hexdigest()[:12]
        run_name = f"{_UNIQUE_PREFIX}{digest}_{next(_counter)}__"
    module = _new_module(run_name, where)
    folder = os.path.dirname(where) if where else None
    try:
        with loading(), importable(folder, os.fspath(base_dir) if base_dir else None), _registered(module, keep):
            exec(code, module.__dict__)
    except SystemExit as exc:
        raise FlowScriptError(
            f"Flow script {filename} called sys.exit({exc.code!r}) while it was loaded. Guard the code that exits "
            'with `if __name__ == "__main__":` so that loading the script only defines the flow.'
        ) from None
    except Exception as exc:
        line = _failure_line(exc, filename)
        at = f", line {line}" if line else ""
        hint = ""
        if isinstance(exc, ImportError):
            hint = (
                " A module it imports is missing here: install it where the flow is loaded (for a deployment, "
                "with a pip_install_requirements pull step)."
            )
        raise FlowScriptError(f"Loading flow script {filename}{at} failed: {type(exc).__name__}: {exc}.{hint}") from exc
    return module


def import_module(name: str, *folders: str | None) -> types.ModuleType:
    """Import module ``name`` (with ``folders`` first on ``sys.path`` while it imports).

    Raises:
        FlowModuleNotFoundError: the module, or one it imports, is not installed here
            (``name`` is the missing module, as for any ``ModuleNotFoundError``).
        FlowScriptError: the module raised while it was imported (file and line named).
    """
    from prefect_storage.context import loading

    try:
        with loading(), importable(*folders):
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if name == missing or name.startswith(missing + "."):
            message = (
                f"Module {name!r} cannot be imported here ({exc}). Install the package that holds the flow where it "
                "runs (the agent's environment), check the module path, or use a 'path/to/file.py:name' entrypoint."
            )
        else:
            message = f"Module {name!r} imports {missing!r}, which is not installed here ({exc}). Install it where the flow runs."
        error = FlowModuleNotFoundError(message)
        error.name = missing
        raise error from None
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
        raise FlowScriptError(f"Importing module {name!r} failed{where}: {type(exc).__name__}: {exc}") from exc
