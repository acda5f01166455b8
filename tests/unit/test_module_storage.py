"""Module storage: flows found by importing a module."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_storage.exceptions import StorageConfigError
from prefect_storage.storage import Module, Storage
from tests.conformance.flows import final_value, make_flow

MODULE_TEXT = """
from prefect_storage import Flow, task

@task
def seven():
    return 7

with Flow("alpha") as alpha:
    seven()

with Flow("beta") as beta:
    seven()

def make():
    with Flow("made") as flow:
        seven()
    return flow

NOT_A_FLOW = 3
"""


@pytest.fixture
def flows_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "ps_test_flows.py").write_text(MODULE_TEXT)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ps_test_flows"


def test_round_trip_by_name(flows_module: str) -> None:
    storage = Module(flows_module)
    assert storage.add_flow(make_flow(name="beta")) == flows_module
    rebuilt = Storage.deserialize(storage.serialize())
    assert isinstance(rebuilt, Module) and rebuilt.module == flows_module
    assert rebuilt.get_flow("beta").name == "beta"
    assert final_value(rebuilt.get_flow("beta")) == 7


def test_attribute_and_factory(flows_module: str) -> None:
    storage = Module(f"{flows_module}:make")
    storage.add_flow(make_flow(name="made"))
    assert storage.get_flow("made").name == "made"


def test_attribute_name_mismatch(flows_module: str) -> None:
    storage = Module(f"{flows_module}:alpha")
    storage.add_flow(make_flow(name="beta"))
    with pytest.raises(ValueError, match="is named 'alpha', expected 'beta'"):
        storage.get_flow("beta")


def test_attribute_not_a_flow(flows_module: str) -> None:
    storage = Module(f"{flows_module}:NOT_A_FLOW")
    storage.add_flow(make_flow(name="x"))
    with pytest.raises(TypeError, match="is a <class 'int'> not a"):
        storage.get_flow("x")


def test_missing_module_is_import_error() -> None:
    storage = Module("no_such_module_here_xyz")
    storage.add_flow(make_flow(name="x"))
    with pytest.raises(ModuleNotFoundError):
        storage.get_flow("x")


def test_build_writes_nothing_and_unknown_flow_is_refused(flows_module: str) -> None:
    storage = Module(flows_module)
    storage.add_flow(make_flow(name="alpha"))
    assert storage.build() is storage
    with pytest.raises(ValueError, match="Flow is not contained in this Storage"):
        storage.get_flow("beta")
    with pytest.raises(ValueError, match="Name conflict"):
        storage.add_flow(make_flow(name="alpha"))


def test_no_result_and_no_labels(flows_module: str) -> None:
    storage = Module(flows_module, add_default_labels=True)
    assert storage.result is None and storage.labels == []


def test_bad_module_string() -> None:
    with pytest.raises(StorageConfigError):
        Module(":attr")
