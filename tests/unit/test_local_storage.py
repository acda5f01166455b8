"""Local storage: the conformance suite plus the classic Local specifics."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.exceptions import FlowNotFoundError, StorageConfigError
from prefect_storage.results import LocalResult
from prefect_storage.storage import Local, Storage
from tests.conformance.flows import FLOW_NAME, final_value, make_flow
from tests.conformance.suite import StorageConformance, StorageHarness


class LocalHarness(StorageHarness):
    def pickle_storage(self, **kwargs: Any) -> Storage:
        return Local(directory=self.tmp_path / "flows", **kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        return Local(path=str(script_path), stored_as_script=True, **kwargs)

    def publish_script(self, storage: Storage, script_path: Path) -> None:
        pass  # the storage reads the file in place

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        if script_path is not None:
            monkeypatch.setenv("FLOW_SCRIPT_DIR", str(script_path.parent))
            return Local(path="${FLOW_SCRIPT_DIR}/" + script_path.name, stored_as_script=True), str(script_path.parent)
        secret_dir = self.tmp_path / "hidden-flows-folder"
        monkeypatch.setenv("FLOWS_DIR", str(secret_dir))
        return Local(directory="${FLOWS_DIR}"), str(secret_dir)

    def tamper(self, storage: Storage, flow_name: str) -> None:
        path = Path(storage.flows[flow_name])
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))

    def delete(self, storage: Storage, flow_name: str) -> None:
        os.unlink(storage.flows[flow_name])


@pytest.fixture
def harness(tmp_path: Path) -> LocalHarness:
    return LocalHarness(tmp_path)


class TestLocalConformance(StorageConformance):
    pass


def test_classic_layout_and_eager_write(tmp_path: Path) -> None:
    storage = Local(directory=tmp_path)
    location = storage.add_flow(make_flow(name="My Flow!"))
    folder, stamp = os.path.split(location)
    assert os.path.dirname(folder) == str(tmp_path)
    assert os.path.basename(folder) == "my-flow"
    assert stamp.startswith(str(__import__("datetime").datetime.now(__import__("datetime").timezone.utc).year))
    assert os.path.isfile(location)  # written in add_flow, like the classic class


def test_default_directory_is_under_home(_isolated_home: Path) -> None:
    storage = Local()
    assert storage.directory == str(_isolated_home / "flows")
    assert isinstance(storage.result, LocalResult)
    assert storage.result.dir == str(_isolated_home / "results")


def test_custom_directory_pairs_result_in_same_folder(tmp_path: Path) -> None:
    assert Local(directory=tmp_path).result.dir == str(tmp_path)


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", "/abs/path", "a/../../b", "!!!", "C:\\\\evil"])
def test_flow_names_cannot_escape_the_directory(tmp_path: Path, name: str) -> None:
    storage = Local(directory=tmp_path / "flows")
    location = storage.add_flow(make_flow(name=name))
    assert Path(location).resolve().is_relative_to((tmp_path / "flows").resolve())
    assert final_value(storage.get_flow(name)) == 42


def test_default_label_is_hostname() -> None:
    assert Local(add_default_labels=True).labels == [socket.gethostname()]
    assert Local(add_default_labels=False, labels=["x"]).labels == ["x"]


def test_default_labels_follow_classic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT__FLOWS__DEFAULTS__STORAGE__ADD_DEFAULT_LABELS", "false")
    assert Local(labels=["a"]).labels == ["a"]


def test_script_mode_requires_path() -> None:
    with pytest.raises(StorageConfigError, match="A `path` must be provided"):
        Local(stored_as_script=True).add_flow(make_flow())


def test_missing_pickle_is_flow_not_found_naming_the_path(tmp_path: Path) -> None:
    storage = Local(directory=tmp_path)
    location = storage.add_flow(make_flow())
    os.unlink(location)
    with pytest.raises(FlowNotFoundError, match=location):
        storage.get_flow(FLOW_NAME)


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    flow = make_flow()
    flow.unpicklable = __import__("threading").Lock()  # cloudpickle cannot pickle a lock
    storage = Local(directory=tmp_path)
    with pytest.raises(TypeError):
        storage.add_flow(flow)
    assert storage.flows == {}
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_deserialized_local_does_not_create_directories(tmp_path: Path) -> None:
    target = tmp_path / "never-created"
    storage = Storage.deserialize({"type": "Local", "directory": str(target), "flows": {}, "secrets": []})
    assert isinstance(storage, Local) and storage.directory == str(target)
    assert not target.exists()


def test_module_path_location_loads_by_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "classic_mod.py").write_text(
        "from prefect_storage import Flow, task\n@task\ndef one():\n    return 1\nwith Flow('modflow') as flow:\n    one()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    storage = Local(path="classic_mod", stored_as_script=True)
    storage.add_flow(make_flow(name="modflow"))
    assert final_value(storage.get_flow("modflow")) == 1


def test_script_can_import_sibling_module_and_read_files_beside_it(tmp_path: Path) -> None:
    (tmp_path / "helpers_for_flow.py").write_text("FACTOR = 3\n")
    (tmp_path / "data.txt").write_text("5")
    script = tmp_path / "flow.py"
    script.write_text(
        "import os\nfrom helpers_for_flow import FACTOR\nfrom prefect_storage import Flow, task\n"
        "BASE = int(open(os.path.join(os.path.dirname(__file__), 'data.txt')).read())\n"
        "@task\ndef calc():\n    return BASE * FACTOR\n"
        "with Flow('siblings') as flow:\n    calc()\n"
    )
    storage = Local(path=str(script), stored_as_script=True)
    storage.add_flow(make_flow(name="siblings"))
    assert final_value(storage.get_flow("siblings")) == 15
