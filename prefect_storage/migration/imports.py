"""Rewrite classic ``prefect`` imports to ``prefect_storage`` with a concrete syntax tree.

:func:`migrate_source` takes a module's text and returns the rewritten text plus the
imports it left alone because ``prefect_storage`` does not provide what they name.
Formatting and comments are kept: only the dotted names change.

What is rewritten:

- ``import prefect`` / ``import prefect.x.y`` become ``import prefect_storage`` /
  ``import prefect_storage.x.y``, and every use of the bound name ``prefect``
  (``prefect.context``, ``prefect.engine.state.Success``) becomes ``prefect_storage``.
  ``import prefect as pf`` becomes ``import prefect_storage as pf`` (uses unchanged).
- ``from prefect[.x] import A, B`` becomes ``from prefect_storage[.x] import A, B``.

Before rewriting an import, the module path (and each imported name) is looked up
in the installed ``prefect_storage``. When something is not provided, that import
statement is left as it was and reported as a :class:`NotProvided` with its line.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from prefect_storage.backends.optional import require

__all__ = ["MigrationResult", "NotProvided", "check_import", "migrate_source", "unified_diff"]

CLASSIC = "prefect"
TARGET = "prefect_storage"


@dataclasses.dataclass(frozen=True)
class NotProvided:
    """A classic import that ``prefect_storage`` cannot satisfy; the statement was left unchanged."""

    line: int
    module: str
    name: str | None
    reason: str

    def describe(self) -> str:
        what = f"{self.module}.{self.name}" if self.name else self.module
        return f"{what}: {self.reason}"


@dataclasses.dataclass
class MigrationResult:
    """The rewritten source of one module and what could not be rewritten."""

    original: str
    source: str
    not_provided: list[NotProvided]

    @property
    def changed(self) -> bool:
        return self.source != self.original


def _target_module(classic_module: str) -> str:
    return TARGET + classic_module[len(CLASSIC) :]


def _import_module(module: str) -> tuple[Any, str | None]:
    """Import ``module``; return (module, None) or (None, why it cannot be imported)."""
    try:
        return importlib.import_module(module), None
    except ImportError as exc:
        return None, str(exc).split(" See docs/")[0]
    except Exception as exc:  # a module that fails for another reason is still not usable
        return None, f"importing it failed: {type(exc).__name__}: {exc}"


def _importable_stub(target: str, name: str) -> str | None:
    """The report line for a name that imports but is not provided (``prefect.Client``)."""
    from prefect_storage._not_provided import IMPORTABLE_NOT_PROVIDED, missing_name

    key = f"{target}.{name}"[len(TARGET) + 1 :]
    if key not in IMPORTABLE_NOT_PROVIDED:
        return None
    return str(missing_name(target, name, IMPORTABLE_NOT_PROVIDED[key])).split(" See docs/")[0]


def check_import(classic_module: str, names: Sequence[str] = ()) -> list[tuple[str | None, str]]:
    """What of ``from <classic_module> import <names>`` (or ``import <classic_module>``)
    the installed prefect_storage lacks: a list of (name or None for the module, reason)."""
    target = _target_module(classic_module)
    module, why = _import_module(target)
    if module is None:
        return [(None, why or f"{target} is not provided by prefect_storage")]
    missing: list[tuple[str | None, str]] = []
    for name in names:
        if name == "*":
            continue
        stub = _importable_stub(target, name)
        if stub is not None:
            missing.append((name, stub))
            continue
        try:
            getattr(module, name)
            continue
        except ImportError as exc:
            missing.append((name, str(exc).split(" See docs/")[0]))
            continue
        except AttributeError:
            pass
        sub, _ = _import_module(f"{target}.{name}") if importlib.util.find_spec(target) else (None, None)
        if sub is None:
            missing.append((name, f"{target} has no {name!r}; prefect_storage does not provide it"))
    return missing


def check_attribute_path(dotted: str) -> tuple[str, str, str] | None:
    """For a use like ``prefect.engine.state.Success``: None when prefect_storage has it,
    else (classic module, missing name, reason)."""
    parts = dotted.split(".")
    obj: Any = importlib.import_module(TARGET)
    for i, part in enumerate(parts[1:], start=1):
        module_path = ".".join(parts[:i])
        stub = _importable_stub(_target_module(module_path), part)
        if stub is not None:
            return module_path, part, stub
        try:
            obj = getattr(obj, part)
            continue
        except ImportError as exc:
            return module_path, part, str(exc).split(" See docs/")[0]
        except AttributeError:
            pass
        from prefect_storage.context import Context

        if not isinstance(obj, ModuleType) or isinstance(obj, Context):
            return None  # an attribute of a class, a value or a run-context key: known only at run time
        sub, why = _import_module(f"{_target_module(module_path)}.{part}")
        if sub is None:
            if why and "is not provided" in why:
                return module_path, part, why
            return module_path, part, f"{_target_module(module_path)} has no {part!r}; prefect_storage does not provide it"
        obj = sub
    return None


def _dotted(node: Any) -> str:
    import libcst as cst

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise TypeError(type(node).__name__)


def _is_classic(dotted: str) -> bool:
    return dotted == CLASSIC or dotted.startswith(CLASSIC + ".")


def _rename_root(node: Any) -> Any:
    """``prefect.a.b`` -> ``prefect_storage.a.b`` keeping every node's whitespace."""
    import libcst as cst

    if isinstance(node, cst.Name):
        return node.with_changes(value=TARGET)
    return node.with_changes(value=_rename_root(node.value))


def _make_transformer(not_provided: list[NotProvided]) -> Any:
    import libcst as cst
    from libcst.metadata import ParentNodeProvider, PositionProvider, ScopeProvider

    class ImportRewriter(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (ParentNodeProvider, PositionProvider, ScopeProvider)

        def __init__(self) -> None:
            super().__init__()
            self.rename: set[int] = set()  # ids of Name nodes bound by a rewritten ``import prefect``
            self.skip_imports: set[int] = set()
            self.reported: set[tuple[str, str, str]] = set()

        def _line(self, node: Any) -> int:
            return int(self.get_metadata(PositionProvider, node).start.line)

        # -- decide, before transforming, which statements can be rewritten -------------

        def visit_Import(self, node: Any) -> None:
            problems = []
            for alias in node.names:
                dotted = _dotted(alias.name)
                if _is_classic(dotted):
                    for name, reason in check_import(dotted):
                        problems.append(NotProvided(self._line(node), dotted, name, reason))
            if problems:
                not_provided.extend(problems)
                self.skip_imports.add(id(node))
                return
            self._collect_references(node)

        def visit_ImportFrom(self, node: Any) -> None:
            if node.relative or node.module is None:
                return
            dotted = _dotted(node.module)
            if not _is_classic(dotted):
                return
            names = ["*"] if isinstance(node.names, cst.ImportStar) else [_dotted(a.name) for a in node.names]
            problems = [NotProvided(self._line(node), dotted, n, r) for n, r in check_import(dotted, names)]
            if problems:
                not_provided.extend(problems)
                self.skip_imports.add(id(node))

        def _collect_references(self, node: Any) -> None:
            """Uses of ``prefect`` bound by this ``import prefect[.x]`` (no ``as``)."""
            if not any(a.asname is None and _is_classic(_dotted(a.name)) for a in node.names):
                return
            scope = self.get_metadata(ScopeProvider, node, None)
            if scope is None:
                return
            for assignment in scope.assignments:
                # ``import prefect.a.b`` is recorded under the dotted name as well as ``prefect``
                if getattr(assignment, "node", None) is not node or not _is_classic(assignment.name):
                    continue
                for access in assignment.references:
                    ref = access.node
                    while isinstance(ref, cst.Attribute):
                        ref = ref.value
                    if isinstance(ref, cst.Name) and ref.value == CLASSIC:
                        self.rename.add(id(ref))
                        self._check_use(ref)

        def _check_use(self, name: Any) -> None:
            """Report ``prefect.x.Y`` uses whose target prefect_storage lacks (still rewritten)."""
            top = name
            parent = self.get_metadata(ParentNodeProvider, top, None)
            while isinstance(parent, cst.Attribute) and parent.value is top:
                top, parent = parent, self.get_metadata(ParentNodeProvider, parent, None)
            if top is name:
                return
            dotted = _dotted(top)
            problem = check_attribute_path(dotted)
            if problem is not None and problem not in self.reported:
                self.reported.add(problem)
                not_provided.append(NotProvided(self._line(top), problem[0], problem[1], problem[2]))

        # -- rewrite -----------------------------------------------------------------------

        def leave_Import(self, original: Any, updated: Any) -> Any:
            if id(original) in self.skip_imports:
                return original
            aliases = [
                a.with_changes(name=_rename_root(a.name)) if _is_classic(_dotted(a.name)) else a for a in updated.names
            ]
            return updated.with_changes(names=aliases)

        def leave_ImportFrom(self, original: Any, updated: Any) -> Any:
            if id(original) in self.skip_imports or updated.relative or updated.module is None:
                return updated
            if not _is_classic(_dotted(updated.module)):
                return updated
            return updated.with_changes(module=_rename_root(updated.module))

        def leave_Name(self, original: Any, updated: Any) -> Any:
            if id(original) in self.rename:
                return updated.with_changes(value=TARGET)
            return updated

    return ImportRewriter


def migrate_source(source: str) -> MigrationResult:
    """Rewrite the classic imports of one module's source text.

    Raises ``libcst.ParserSyntaxError`` when the text is not valid Python.
    """
    cst = require("libcst", extra="cli", purpose="prefect-storage migrate imports")
    from libcst.metadata import MetadataWrapper

    not_provided: list[NotProvided] = []
    if CLASSIC not in source:  # fast path: nothing to look at
        return MigrationResult(source, source, not_provided)
    wrapper = MetadataWrapper(cst.parse_module(source))
    new_tree = wrapper.visit(_make_transformer(not_provided)())
    not_provided.sort(key=lambda p: (p.line, p.module, p.name or ""))
    return MigrationResult(source, new_tree.code, not_provided)


def unified_diff(result: MigrationResult, path: str) -> str:
    """The change as a unified diff (``a/path`` -> ``b/path``), empty when nothing changed."""
    return "".join(
        difflib.unified_diff(
            result.original.splitlines(keepends=True),
            result.source.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
