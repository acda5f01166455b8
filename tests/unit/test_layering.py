"""The layering of ARCHITECTURE.md, checked: no module imports from a layer above its own.

The layers, the classic re-export shims and the allowed exceptions are read from ONE
place, the fenced blocks of ``docs/architecture.md`` (``layers``, ``shims``, ``allowed``),
which is also what a reader sees. Imports are found with :mod:`ast`, including imports
inside functions (a lazy upward import is still an upward dependency); imports under
``if TYPE_CHECKING:`` are not counted (annotations create no runtime dependency).

Rules (each failure names the file, the line and the rule):

* ``upward``: a module imports a module of a higher layer;
* ``shim``: a module that is not a shim imports a classic re-export shim (shims sit on
  top and may import anything; nothing below depends on them);
* ``unassigned``: a module is in no layer (add its top-level name to the ``layers`` or
  ``shims`` block of docs/architecture.md).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "prefect_storage"
DOC = ROOT / "docs" / "architecture.md"


def _block(name: str) -> list[str]:
    """The lines of the fenced block opened with ```text {name}`` in docs/architecture.md."""
    match = re.search(rf"```text {name}\n(.*?)```", DOC.read_text(), re.S)
    assert match, f"docs/architecture.md has no ```text {name} block"
    return [line for line in match.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class Rules:
    rank: dict[str, int]  # top-level name -> layer rank (0 = ground floor)
    layer_of: dict[str, str]
    shims: frozenset[str]
    allowed: frozenset[tuple[str, str]]  # (importer, imported) module prefixes


def load_rules() -> Rules:
    rank: dict[str, int] = {}
    layer_of: dict[str, str] = {}
    lines = _block("layers")  # top layer first
    for position, line in enumerate(reversed(lines)):
        layer, *names = line.split()
        for name in names:
            rank[name.rstrip("/").removesuffix(".py")] = position
            layer_of[name.rstrip("/").removesuffix(".py")] = layer.rstrip(":")
    shims = frozenset(n.rstrip("/").removesuffix(".py") for line in _block("shims") for n in line.split()[1:])
    allowed = set()
    for line in _block("allowed"):
        text = line.split("#", 1)[0]
        importer, _, imported = text.partition("->")
        allowed.add((importer.strip(), imported.strip()))
    return Rules(rank, layer_of, shims, frozenset(allowed))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "_TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every package-internal import in ``path`` (resolving relative ones)."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "prefect_storage"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "prefect_storage":
                continue
            if module == "prefect_storage":  # `from prefect_storage import config`: the names are modules or the API
                found += [(node.lineno, f"prefect_storage.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, module))
    return found


def _is_allowed(rules: Rules, importer: str, imported: str) -> bool:
    return any(
        (importer == a or importer.startswith(a + ".")) and (imported == b or imported.startswith(b + "."))
        for a, b in rules.allowed
    )


def violations(rules: Rules) -> list[str]:
    problems: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        where = path.relative_to(ROOT)
        top = _top(importer)
        if top not in rules.rank and top not in rules.shims:
            problems.append(f"{where}:1: rule 'unassigned': {top!r} is in no layer of docs/architecture.md")
            continue
        if top in rules.shims:
            continue  # shims sit on top: they may import anything
        for line, imported in imports(path):
            target = _top(imported)
            if _is_allowed(rules, importer, imported):
                continue
            if target in rules.shims and target != "__init__":
                problems.append(
                    f"{where}:{line}: rule 'shim': {importer} imports the classic re-export shim {imported}; "
                    "import the implementation in its layer instead"
                )
            elif target in rules.rank and rules.rank[target] > rules.rank[top]:
                problems.append(
                    f"{where}:{line}: rule 'upward': {importer} (layer {rules.layer_of[top]}) imports {imported} "
                    f"(layer {rules.layer_of[target]}, above it); move the shared code down or add a commented "
                    "entry to the 'allowed' block of docs/architecture.md"
                )
    return problems


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    problems = violations(load_rules())
    assert not problems, "\n" + "\n".join(problems)


def test_the_checker_catches_an_upward_import(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rules = load_rules()
    fake = PACKAGE / "backends" / "_layering_probe.py"
    fake.write_text("def f():\n    from prefect_storage.core.flow import Flow\n    return Flow\n")
    try:
        problems = violations(rules)
    finally:
        fake.unlink()
    assert any("_layering_probe.py:2: rule 'upward'" in p for p in problems), problems


def test_type_checking_imports_are_not_counted(tmp_path: Path) -> None:
    probe = PACKAGE / "backends" / "_layering_probe2.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from prefect_storage.core.flow import Flow\n")
    try:
        assert imports(probe) == []
    finally:
        probe.unlink()
