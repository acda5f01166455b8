"""The Storage base class: type registry, JSON, concurrent builds, default class."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefect_storage.exceptions import FlowNotFoundError, FlowStorageError, StorageConfigError
from prefect_storage.storage import Local, Storage, get_default_storage_class
from prefect_storage.storage.base import flow_slug, storage_class, timestamp_slug
from tests.conformance.flows import final_value, make_flow

ROOT = Path(__file__).resolve().parents[2]


class MemoryStorage(Storage):
    """A storage keeping bytes in a dict: exercises the base machinery alone."""

    _serialized_fields = ("label",)
    _max_concurrent_writes = 4
    _transient_attributes = ("lock",)
    blobs: dict[str, bytes] = {}

    def __init__(self, label: str = "m", fail_on: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.label = label
        self.fail_on = fail_on
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        super().__init__(**kwargs)

    def _location_for(self, flow) -> str:
        return f"mem/{flow_slug(flow.name)}"

    def _write(self, location: str, data: bytes) -> None:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(0.05)  # a slow service: concurrent uploads overlap
            if any(name in location for name in self.fail_on):
                raise OSError(f"disk full writing {location}")
            MemoryStorage.blobs[location] = data
        finally:
            with self.lock:
                self.active -= 1

    def _read(self, location: str) -> bytes:
        try:
            return MemoryStorage.blobs[location]
        except KeyError:
            raise FlowNotFoundError(f"nothing at {location}") from None


def test_custom_subclass_round_trips_through_json_with_its_module() -> None:
    storage = MemoryStorage(label="x")
    storage.add_flow(make_flow(name="one", value=1))
    storage.build()
    data = json.loads(json.dumps(storage.serialize()))
    assert data["__module__"] == __name__ and data["label"] == "x"
    again = Storage.deserialize(data)
    assert isinstance(again, MemoryStorage) and final_value(again.get_flow("one")) == 2


def test_unknown_type_lists_known_types() -> None:
    with pytest.raises(StorageConfigError, match="Unknown storage type 'Nope'.*Local"):
        Storage.deserialize({"type": "Nope"})
    with pytest.raises(StorageConfigError, match="must be a dict with a 'type' key"):
        Storage.deserialize(["Local"])  # type: ignore[arg-type]


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    data = Local(directory=tmp_path).serialize()
    data["added_in_a_future_version"] = 1
    assert isinstance(Storage.deserialize(data), Local)


def test_builtin_types_resolve_lazily() -> None:
    assert storage_class("Local") is Local
    assert set(Storage.deserialize({"type": "Module", "module": "json"}).serialize()) >= {"module", "flows"}


def test_build_uploads_concurrently_and_reports_every_failure() -> None:
    storage = MemoryStorage(fail_on=("bad-1", "bad-2"))
    for name in ("good-1", "good-2", "bad-1", "bad-2", "good-3"):
        storage.add_flow(make_flow(name=name))
    with pytest.raises(FlowStorageError, match="2 of 5 flows could not be stored") as info:
        storage.build()
    assert "'bad-1'" in str(info.value) and "'bad-2'" in str(info.value)
    assert storage.max_active > 1
    storage.fail_on = ()
    storage.build()  # only the two that failed are written again
    assert storage._written.keys() == {"good-1", "good-2", "bad-1", "bad-2", "good-3"}


def test_changed_flow_is_written_again_on_rebuild() -> None:
    storage = MemoryStorage()
    flow = make_flow(name="changing")
    storage.add_flow(flow)
    storage.build()
    first = MemoryStorage.blobs["mem/changing"]
    flow.description = "now different"
    storage.build()
    assert MemoryStorage.blobs["mem/changing"] != first


def test_pickled_storage_drops_live_flows() -> None:
    import cloudpickle

    storage = MemoryStorage()
    storage.add_flow(make_flow(name="a"))
    storage.add_flow(make_flow(name="b"))
    again = cloudpickle.loads(cloudpickle.dumps(storage))  # the lock is a transient attribute
    assert again._flows == {} and again.flows == storage.flows and not hasattr(again, "lock")


def test_default_storage_class(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_default_storage_class() is Local
    monkeypatch.setenv("PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS", "prefect_storage.storage.module.Module")
    assert get_default_storage_class().__name__ == "Module"
    monkeypatch.setenv("PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS", "no.such.Thing")
    with pytest.warns(UserWarning, match="Could not import no.such.Thing; using prefect_storage.storage.Local instead."):
        assert get_default_storage_class() is Local


def test_classic_config_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    from prefect_storage import config
    from prefect_storage.core.configuration import set_temporary_config
    from prefect_storage.storage.module import Module

    monkeypatch.setenv("PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS", "prefect.storage.module.Module")
    assert get_default_storage_class() is Module  # a classic `prefect.` name, read after the import swap
    with set_temporary_config({"flows.defaults.storage.default_class": "prefect_storage.storage.Local"}):
        assert get_default_storage_class() is Local
    with set_temporary_config({"flows.defaults.storage.default_class": Module}):
        assert get_default_storage_class() is Module  # a class object, as classic allowed
    with set_temporary_config({"flows.defaults.storage.default_class": "FOOBAR"}), pytest.warns(UserWarning, match="FOOBAR"):
        assert get_default_storage_class() is Local

    monkeypatch.setenv("PREFECT__FLOWS__DEFAULTS__STORAGE__ADD_DEFAULT_LABELS", "false")
    assert Local().add_default_labels is False
    with set_temporary_config({"flows.defaults.storage.add_default_labels": True}):
        assert Local().add_default_labels is True and Local().labels

    with set_temporary_config({"home_dir": str(tmp_path / "home")}):
        assert config.home_dir == str(tmp_path / "home")  # classic prefect.config.home_dir: a string
        assert config.home_path() == tmp_path / "home"
    assert config.home_dir == os.fspath(config.home_path())


@given(st.text(max_size=60))
def test_flow_slug_is_always_safe(name: str) -> None:
    slug = flow_slug(name)
    assert slug and all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    assert slug == slug.lower() and ".." not in slug and "/" not in slug
    assert flow_slug(name) == slug  # deterministic


def test_classic_slugs() -> None:
    assert flow_slug("My Flow!") == "my-flow"
    assert timestamp_slug().count("-") >= 6 and "t" in timestamp_slug()


def test_import_pulls_in_no_sdk() -> None:
    code = (
        "import sys, json\n"
        "import prefect_storage, prefect_storage.storage, prefect_storage.results\n"
        "from prefect_storage.storage import Storage, Local\n"
        "heavy = ['boto3', 'botocore', 'google.cloud.storage', 'azure.storage.blob', 'github', 'gitlab',"
        " 'docker', 'git', 'dulwich', 'requests', 'sqlalchemy', 'cloudpickle', 'logging', 'concurrent.futures']\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []


def test_registry_and_cli_without_their_extra_name_it() -> None:
    """Without SQLAlchemy/click, flow.register() and the command say which extra to install."""
    code = (
        "import sys\n"
        "sys.modules['sqlalchemy'] = None; sys.modules['click'] = None  # as if not installed\n"
        "from prefect_storage import Flow\n"
        "from prefect_storage.exceptions import BackendNotInstalledError\n"
        "for attempt in (lambda: Flow('f').register(), lambda: __import__('prefect_storage.cli')):\n"
        "    try:\n"
        "        attempt()\n"
        "    except BackendNotInstalledError as exc:\n"
        "        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all("pip install 'prefect-storage[cli]'" in line for line in lines), out


def test_storage_is_abstract_and_a_class_without_transport_cannot_load() -> None:
    with pytest.raises(TypeError):
        Storage()  # type: ignore[abstract]

    class LocationOnly(Storage):
        def _location_for(self, flow):
            return "somewhere"

    storage = LocationOnly()
    storage.add_flow(make_flow(name="x"))
    with pytest.raises(NotImplementedError):
        storage.get_flow("x")


def test_aws_credential_sources_follow_the_classic_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.backends.aws import client_kwargs

    keys = {"aws_access_key_id": "AKIAFROMKWARGS", "aws_secret_access_key": "kwargs-secret-value"}
    assert client_kwargs({})[1].startswith("boto3's default credential chain")
    assert client_kwargs(keys) == (keys, "keys in client_options")
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", json.dumps({"ACCESS_KEY": "AKIAFROMSECRET", "SECRET_ACCESS_KEY": "s" * 20}))
    kwargs, source = client_kwargs(keys)
    assert kwargs["aws_access_key_id"] == "AKIAFROMSECRET" and source == "the AWS_CREDENTIALS secret"
