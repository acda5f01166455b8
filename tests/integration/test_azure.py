"""Azure storage against Azurite (blob service, in memory) on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.storage import Azure, Storage
from tests.conformance.flows import FLOW_NAME, final_value, make_flow
from tests.conformance.suite import StorageConformance, StorageHarness
from tests.services.azurite import ACCOUNT_KEY


def blob_client(container: str, blob: str):
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    return service.get_blob_client(container, blob)


class AzureHarness(StorageHarness):
    def __init__(self, tmp_path: Path, container: str) -> None:
        super().__init__(tmp_path)
        self.container = container

    def pickle_storage(self, **kwargs: Any) -> Storage:
        return Azure(self.container, **kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        return Azure(self.container, blob_name="scripts/conformance_flow.py", stored_as_script=True,
                     local_script_path=str(script_path), **kwargs)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        # The connection string comes from a named secret; its account key must never show.
        monkeypatch.setenv("AZURE_FLOWS_CONNECTION", os.environ["AZURE_STORAGE_CONNECTION_STRING"])
        monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
        if script_path is not None:
            return Azure(self.container, connection_string_secret="AZURE_FLOWS_CONNECTION", blob_name="scripts/t.py",
                         stored_as_script=True, local_script_path=str(script_path)), ACCOUNT_KEY
        return Azure(self.container, connection_string_secret="AZURE_FLOWS_CONNECTION"), ACCOUNT_KEY

    def tamper(self, storage: Storage, flow_name: str) -> None:
        blob = blob_client(self.container, storage.flows[flow_name])
        data = bytearray(blob.download_blob().readall())
        data[-1] ^= 0xFF
        blob.upload_blob(bytes(data), overwrite=True)

    def delete(self, storage: Storage, flow_name: str) -> None:
        blob_client(self.container, storage.flows[flow_name]).delete_blob()


@pytest.fixture
def harness(tmp_path: Path, azure_container: str) -> AzureHarness:
    return AzureHarness(tmp_path, azure_container)


class TestAzureConformance(StorageConformance):
    pass


# -- Azure specifics ---------------------------------------------------------------------


def test_overwrite_false_refuses_to_replace_a_blob(azure_container: str) -> None:
    from prefect_storage.exceptions import FlowStorageError

    first = Azure(azure_container, blob_name="etl/flow")
    first.add_flow(make_flow(value=1))
    first.build()
    second = Azure(azure_container, blob_name="etl/flow")
    second.add_flow(make_flow(value=2))
    with pytest.raises(FlowStorageError, match="overwrite=True"):
        second.build()
    replacing = Azure(azure_container, blob_name="etl/flow", overwrite=True)
    replacing.add_flow(make_flow(value=3))
    replacing.build()
    assert final_value(first.get_flow(FLOW_NAME)) == 6
    assert "overwrite" not in replacing.serialize()


def test_no_connection_string_anywhere_is_the_classic_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.exceptions import StorageConfigError

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    storage = Azure("flows")
    storage.add_flow(make_flow())
    with pytest.raises(StorageConfigError, match="Azure connection string not provided"):
        storage.build()
    named = Azure("flows", connection_string_secret="NO_SUCH_AZURE_SECRET")
    named.add_flow(make_flow())
    with pytest.raises(StorageConfigError, match="NO_SUCH_AZURE_SECRET"):
        named.build()


def test_account_url_uses_default_azure_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.exceptions import StorageAuthError

    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "https://127.0.0.1:1/devstoreaccount1")
    storage = Azure("flows")
    storage.add_flow(make_flow())
    with pytest.raises(StorageAuthError, match="DefaultAzureCredential"):
        storage.build()


def test_classic_script_mode_loads_a_blob_the_user_placed(azure_container: str) -> None:
    from tests.conformance.flows import flow_script

    blob_client(azure_container, "scripts/etl.py").upload_blob(flow_script(value=4).encode())
    storage = Azure(azure_container, blob_name="scripts/etl.py", stored_as_script=True)
    storage.add_flow(make_flow())
    storage.build()  # no local_script_path: nothing uploaded, as in the classic class
    assert final_value(Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)) == 8


def test_azure_result_never_pickles_a_literal_connection_string(azure_container: str) -> None:
    import json
    import pickle

    from prefect_storage.results import AzureResult

    conn = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
    result = AzureResult(azure_container, connection_string=conn)
    written = result.write([1, 2, 3], flow_name="f")
    assert result.read(str(written.location)).value == [1, 2, 3]
    for text in (pickle.dumps(result).decode("latin-1"), pickle.dumps(written).decode("latin-1"),
                 json.dumps(result.serialize()), repr(result)):
        assert ACCOUNT_KEY not in text
    # A pickled copy resolves the connection again where it is used.
    assert pickle.loads(pickle.dumps(written)).read(str(written.location)).value == [1, 2, 3]
