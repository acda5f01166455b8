"""The registry and flow.register(), on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa

from prefect_storage import Flow, UniversalRun, task
from prefect_storage.core.context import loading
from prefect_storage.exceptions import FlowStorageError
from prefect_storage.registry import (
    FAILED,
    RUNNING,
    SCHEDULED,
    NotRegisteredError,
    Registry,
    SchemaVersionError,
)
from prefect_storage.registry import schema as registry_schema
from prefect_storage.storage import Local
from tests.integration.registry_helpers import load_flow, write_flow

pytestmark = pytest.mark.integration


@task
def one() -> int:
    return 1


def test_register_twice_without_changes_keeps_id_and_version(registry_url: str, tmp_path: Path) -> None:
    path = write_flow(tmp_path, "same")
    first = load_flow(path).register(registry=registry_url)
    again = load_flow(path).register(registry=registry_url)  # a fresh flow object, as a new process would have
    assert again == first
    with Registry(registry_url) as registry:
        (record,) = registry.list_flows(all_versions=True)
        assert (record.id, record.version) == (first, 1)


def test_changed_metadata_makes_a_new_version_and_archives_the_old(registry_url: str, tmp_path: Path) -> None:
    path = write_flow(tmp_path, "changing")
    first = load_flow(path).register(registry=registry_url)
    second = load_flow(path).register(registry=registry_url, labels=["gpu"])
    assert second != first
    with Registry(registry_url) as registry:
        latest = registry.find_flow("changing")
        assert (latest.id, latest.version, latest.labels) == (second, 2, ["gpu"])
        versions = registry.list_flows(all_versions=True)
        assert [(v.version, v.archived) for v in versions] == [(1, True), (2, False)]


def test_explicit_idempotency_key_wins_over_the_metadata_hash(registry_url: str, tmp_path: Path) -> None:
    path = write_flow(tmp_path, "keyed")
    first = load_flow(path).register(registry=registry_url, idempotency_key="k1")
    assert load_flow(path).register(registry=registry_url, labels=["other"], idempotency_key="k1") == first
    assert load_flow(path).register(registry=registry_url, idempotency_key="k2") != first


def test_labels_are_run_config_storage_and_argument(registry_url: str, tmp_path: Path) -> None:
    flow = Flow("labelled", tasks=[one], run_config=UniversalRun(labels=["from-run-config"]))
    flow.storage = Local(directory=tmp_path, labels=["from-storage"])
    flow.register(registry=registry_url, labels=["from-argument"])
    with Registry(registry_url) as registry:
        record = registry.find_flow("labelled")
    assert set(record.labels) == {"from-run-config", "from-storage", "from-argument", socket.gethostname()}
    assert flow.result is flow.storage.result  # the storage's paired result became the flow's


def test_default_storage_when_the_flow_has_none(registry_url: str) -> None:
    flow = Flow("no storage", tasks=[one])
    flow_id = flow.register(registry=registry_url, add_default_labels=False)
    assert isinstance(flow.storage, Local)
    with Registry(registry_url) as registry:
        record = registry.get_flow(flow_id)
    assert record.storage["type"] == "Local" and Path(record.storage["flows"]["no storage"]).is_file()
    assert record.serialized["name"] == "no storage"
    assert "flows" in record.storage and "__version__" in record.storage


def test_storage_that_cannot_be_built_registers_nothing(registry_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    flow = Flow("unbuildable", tasks=[one], storage=Local(directory=str(blocker / "flows"), validate=False))
    with pytest.raises(FlowStorageError, match="Could not add flow 'unbuildable' to its Local storage, so nothing was registered"):
        flow.register(registry=registry_url)
    with Registry(registry_url) as registry:
        assert registry.list_flows(all_versions=True) == []


def test_register_inside_a_flow_block_or_while_loading(registry_url: str) -> None:
    with Flow("inside") as flow:
        one()
        with pytest.raises(ValueError, match=r"Don't call `flow.register\(\)` from within a `Flow` context manager"):
            flow.register(registry=registry_url)
    with loading(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert flow.register(registry=registry_url) is None
    assert "`flow.register` during execution of flow file" in str(caught[0].message)


def test_runs_move_through_states_and_claims_respect_labels(registry_url: str, tmp_path: Path) -> None:
    flow_id = load_flow(write_flow(tmp_path, "stateful", labels=["prod"])).register(registry=registry_url)
    with Registry(registry_url) as registry:
        run = registry.create_flow_run(flow_id, {"x": 1})
        assert (run.state, run.labels, run.parameters) == (SCHEDULED, ["prod"], {"x": 1})
        assert registry.claim_flow_runs({"dev"}, "a1") == []
        (claimed,) = registry.claim_flow_runs({"prod", "extra"}, "a1")
        assert (claimed.id, claimed.state, claimed.agent) == (run.id, RUNNING, "a1")
        assert claimed.started is not None
        assert registry.claim_flow_runs({"prod"}, "a2") == []  # never claimed twice
        registry.set_flow_run_state(run.id, FAILED, "boom", tasks=[])
        done = registry.get_flow_run(run.id[:8])
        assert (done.state, done.message) == (FAILED, "boom") and done.ended >= done.started


def test_unknown_names_and_ids(registry_url: str) -> None:
    with Registry(registry_url) as registry:
        with pytest.raises(NotRegisteredError, match="No flow named 'nope' is registered"):
            registry.find_flow("nope")
        with pytest.raises(NotRegisteredError, match="matches no run"):
            registry.get_flow_run("0123456789")


def test_database_from_a_newer_version_is_refused(registry_url: str) -> None:
    with Registry(registry_url) as registry:
        registry.migrate()
        with registry.engine.begin() as conn:
            conn.execute(sa.update(registry_schema.schema_version).values(version=registry_schema.LATEST + 1))
    with Registry(registry_url) as registry, pytest.raises(SchemaVersionError, match="Upgrade prefect-storage"):
        registry.list_flows()


def test_default_registry_is_sqlite_in_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_STORAGE_REGISTRY_URL", raising=False)
    flow = Flow("homed", tasks=[one], storage=Local(directory=tmp_path, add_default_labels=False))
    flow.register()
    home = Path(__import__("os").environ["PREFECT_STORAGE_HOME"])
    assert (home / "prefect_storage.db").is_file()
    monkeypatch.setenv("PREFECT_STORAGE_REGISTRY_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    Flow("moved", tasks=[one], storage=Local(directory=tmp_path)).register()
    assert (tmp_path / "elsewhere.db").is_file()
