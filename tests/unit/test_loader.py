"""The one script loader and the one entrypoint syntax (issue 9, item 3).

Registration (``cli/collect.py``), stored script and module flows
(``serialization/extract.py``) and entrypoints (``load_entrypoint``: deployments,
``flow.from_source()``) all load through ``serialization/loader.py`` and accept the
same strings.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from prefect_storage import Flow
from prefect_storage.cli import collect
from prefect_storage.exceptions import (
    EntrypointError,
    FlowDeserializationError,
    FlowModuleNotFoundError,
    FlowScriptError,
    ScriptModuleNameError,
    StorageConfigError,
)
from prefect_storage.serialization import entrypoint, extract, loader
from prefect_storage.storage import Module

SCRIPT = textwrap.dedent(
    """
    from prefect_storage import Flow, task
    import helper

    RAN_AS = __name__

    @task
    def one():
        return helper.VALUE

    with Flow("etl") as flow:
        one()

    with Flow("other") as second:
        one()

    if __name__ == "__main__":
        raise SystemExit("main block must not run")
    """
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``scripts/etl.py`` (with a sibling ``helper.py``) and the importable ``ldr_pkg.flows``."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "etl.py").write_text(SCRIPT)
    (tmp_path / "scripts" / "helper.py").write_text("VALUE = 7\n")
    (tmp_path / "ldr_pkg").mkdir()
    (tmp_path / "ldr_pkg" / "__init__.py").write_text("")
    (tmp_path / "ldr_pkg" / "flows.py").write_text(SCRIPT.replace("import helper", "from ldr_pkg import helper"))
    (tmp_path / "ldr_pkg" / "helper.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for name in [m for m in sys.modules if m in {"ldr_pkg", "helper"} or m.startswith("ldr_pkg.")]:
        del sys.modules[name]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, ...]]:
    """Every time the one loader puts code on the import path (scripts and modules alike)."""
    seen: list[tuple[str | None, ...]] = []
    real = loader.importable

    def spy(*folders: str | None):  # type: ignore[no-untyped-def]
        seen.append(folders)
        return real(*folders)

    monkeypatch.setattr(loader, "importable", spy)
    return seen


def _names(flows: list[Flow]) -> list[str]:
    return sorted(f.name for f in flows)


# -- one syntax, every caller ---------------------------------------------------------------------

#: (entrypoint, what registration collects, what an entrypoint loads: a flow name or None = refused)
FORMS = [
    ("scripts/etl.py:flow", ["etl"], "etl"),
    ("scripts/etl.py:etl", ["etl"], "etl"),  # by the flow's own name
    ("scripts/etl.py", ["etl", "other"], None),  # a whole script: registration only
    ("ldr_pkg.flows:flow", ["etl"], "etl"),
    ("ldr_pkg.flows:second", ["other"], "other"),
    ("ldr_pkg.flows.flow", ["etl"], "etl"),  # dotted attribute
    ("ldr_pkg.flows", ["etl", "other"], None),  # the classic whole module: registration / Module only
]


@pytest.mark.parametrize(("text", "collected", "named"), FORMS)
def test_registration_and_deployment_accept_the_same_syntax(
    project: Path, loads: list[tuple[str | None, ...]], text: str, collected: list[str], named: str | None
) -> None:
    is_file = entrypoint.parse_entrypoint(text)[2]
    source = collect.load_script(collect.expand_paths([text])[0]) if is_file else collect.load_module(text)
    assert _names(source.flows) == collected
    if named is None:
        with pytest.raises(EntrypointError, match="name"):
            entrypoint.load_entrypoint(text, project)
    else:
        assert entrypoint.load_entrypoint(text, project).name == named
    assert loads, "nothing went through the loader"


@pytest.mark.parametrize("text", ["ldr_pkg.flows:flow", "ldr_pkg.flows.flow"])
def test_module_storage_accepts_the_same_module_forms(project: Path, text: str) -> None:
    storage = Module(text)
    storage.add_flow(Flow("etl"))
    assert storage.get_flow("etl").name == "etl"
    assert extract.extract_flow_from_module("ldr_pkg.flows", flow_name="other").name == "other"


def test_all_three_callers_go_through_the_loader(project: Path, loads: list[tuple[str | None, ...]]) -> None:
    script = str(project / "scripts" / "etl.py")
    collect.load_script(script)
    extract.extract_flow_from_file(file_path=script)
    entrypoint.load_entrypoint("scripts/etl.py:flow", project)
    folder = str(project / "scripts")
    assert [f for f in loads if folder in f] and len([f for f in loads if folder in f]) == 3


def test_parse_entrypoint_forms() -> None:
    parse = entrypoint.parse_entrypoint
    assert parse("flows/etl.py:f") == ("flows/etl.py", "f", True)
    assert parse("flows/etl.py") == ("flows/etl.py", None, True)
    assert parse("pkg.mod:f") == ("pkg.mod", "f", False)
    assert parse("pkg.mod") == ("pkg.mod", None, False)
    assert parse(r"C:\code\etl.py") == (r"C:\code\etl.py", None, True)
    with pytest.raises(EntrypointError, match="empty"):
        parse("  ")
    with pytest.raises(EntrypointError, match="after the colon"):
        parse("pkg.mod:")


def test_register_path_with_a_flow_name(project: Path) -> None:
    (item,) = collect.expand_paths(["scripts/etl.py:second"])
    assert item == f"{project / 'scripts' / 'etl.py'}:second"
    assert collect.script_file(item) == str(project / "scripts" / "etl.py")
    source = collect.load_script(item)
    assert _names(source.flows) == ["other"]
    assert source.flows[0].storage.path == str(project / "scripts" / "etl.py")  # type: ignore[union-attr]


# -- the names scripts run under ------------------------------------------------------------------


def test_classic_scripts_run_as_flow_and_leave_no_module_behind(project: Path) -> None:
    script = project / "scripts" / "etl.py"
    registered = collect.load_script(str(script)).flows[0]
    stored = extract.extract_flow_from_file(file_path=script)
    downloaded = extract.extract_flow_from_file(file_contents=script.read_bytes(), file_path=script)
    for flow in (registered, stored, downloaded):
        fn = next(iter(flow.tasks)).run
        assert fn.__module__ == loader.CLASSIC_SCRIPT_NAME == fn.__globals__["RAN_AS"]
        assert fn.__globals__["__file__"] == str(script)
    # as runpy does: not importable afterwards, so cloudpickle pickles the script's code by value
    assert loader.CLASSIC_SCRIPT_NAME not in sys.modules


def test_entrypoint_scripts_run_under_a_unique_kept_name(project: Path) -> None:
    first = entrypoint.load_entrypoint("scripts/etl.py:flow", project)
    second = entrypoint.load_entrypoint("scripts/etl.py:flow", project)
    names = {next(iter(f.tasks)).run.__module__ for f in (first, second)}
    assert len(names) == 2 and all(loader.is_script_module_name(n) and n in sys.modules for n in names)


def test_sys_path_and_shadowed_modules_are_restored(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = project / "elsewhere"
    other.mkdir()
    (other / "helper.py").write_text("VALUE = -1\n")
    monkeypatch.syspath_prepend(str(other))
    monkeypatch.delitem(sys.modules, "helper", raising=False)
    import helper  # type: ignore[import-not-found]

    assert helper.VALUE == -1
    before = list(sys.path)
    flow = extract.extract_flow_from_file(file_path=project / "scripts" / "etl.py")
    assert next(iter(flow.tasks)).run() == 7  # the script's own sibling, not the one imported earlier
    assert sys.path == before and sys.modules["helper"] is helper


# -- errors are the same wherever a script is loaded -------------------------------------------------


def test_a_failing_script_is_one_typed_error_from_every_caller(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n\nraise ValueError('boom')\n")
    calls = [
        lambda: collect.load_script(str(bad)),
        lambda: extract.extract_flow_from_file(file_path=bad),
        lambda: entrypoint.load_entrypoint("bad.py:x", tmp_path),
    ]
    for call in calls:
        with pytest.raises(FlowScriptError, match=r"bad\.py, line 3 failed: ValueError: boom") as info:
            call()
        assert isinstance(info.value, EntrypointError) and isinstance(info.value, FlowDeserializationError)
        assert isinstance(info.value.__cause__, ValueError)


def test_a_missing_module_is_one_typed_error(project: Path) -> None:
    with pytest.raises(FlowModuleNotFoundError, match="cannot be imported") as info:
        entrypoint.load_entrypoint("ldr_pkg.absent:flow", project)
    assert info.value.name == "ldr_pkg.absent" and isinstance(info.value, ModuleNotFoundError)
    with pytest.raises(FlowModuleNotFoundError, match="No module named 'ldr_pkg.absent'"):
        extract.extract_flow_from_module("ldr_pkg.absent")
    with pytest.raises(click.ClickException, match="No module named 'ldr_pkg.absent'"):
        collect.load_module("ldr_pkg.absent")
    (project / "ldr_pkg" / "needs.py").write_text("import not_installed_dep_xyz\n")
    with pytest.raises(FlowModuleNotFoundError, match="imports 'not_installed_dep_xyz'") as dep:
        extract.extract_flow_from_module("ldr_pkg.needs")
    assert dep.value.name == "not_installed_dep_xyz"


# -- Module(__name__) in a script registered by path -------------------------------------------------

MODULE_NAME_SCRIPT = """
from prefect_storage import Flow, task
from prefect_storage.storage import Module

@task
def one():
    return 1

with Flow("named", storage=Module(__name__)) as flow:
    one()
"""


def test_module_name_of_a_script_is_a_typed_error_that_says_what_to_do(tmp_path: Path) -> None:
    script = tmp_path / "flowfile.py"
    script.write_text(MODULE_NAME_SCRIPT)
    with pytest.raises(ScriptModuleNameError) as info:
        collect.load_script(str(script))
    message = str(info.value)
    assert isinstance(info.value, StorageConfigError)
    assert "'<flow>'" in message and str(script) in message
    assert "Module('pkg.module')" in message and "--module" in message and "stored_as_script=True" in message


@pytest.mark.parametrize("name", ["<flow>", "__main__", "<flow>:flow", "__prefect_storage_entrypoint_0123_1__"])
def test_module_storage_of_a_script_name_is_refused_at_build(name: str) -> None:
    storage = Module(name)
    storage.add_flow(Flow("x"))
    with pytest.raises(ScriptModuleNameError, match="Module"):
        storage.build()


def test_importable_module_names_build(project: Path) -> None:
    storage = Module("ldr_pkg.flows")
    storage.add_flow(Flow("etl"))
    assert storage.build() is storage
