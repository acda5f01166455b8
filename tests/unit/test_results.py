"""Results and serializers (classic behaviour, JSON round trips)."""

from __future__ import annotations

import datetime
import gzip
import os
from pathlib import Path

import pytest

from prefect_storage.results import (
    ConstantResult,
    LocalResult,
    PrefectResult,
    Result,
    ResultNotImplementedError,
    SecretResult,
)
from prefect_storage.results.base import NoResult
from prefect_storage.serializers import CompressedSerializer, DateTimeSerializer, JSONSerializer, PickleSerializer


def test_base_result_format_rules() -> None:
    assert Result(location="{flow_name}/{x}").format(flow_name="f", x=1).location == "f/1"
    assert Result(location=lambda **kw: f"fn-{kw['x']}").format(x=2).location == "fn-2"
    default = Result().format().location
    today = datetime.datetime.now(datetime.timezone.utc)
    assert default.startswith(f"{today.year}/{today.month}/{today.day}/") and default.endswith(".prefect_result")


def test_base_result_cannot_read_or_write() -> None:
    for call in (lambda r: r.read("x"), lambda r: r.write(1), lambda r: r.exists("x")):
        with pytest.raises(ResultNotImplementedError, match="Not implemented on the base Result class"):
            call(Result())


def test_local_result_write_read_exists(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{task_name}.bin")
    written = result.write({"a": 1}, task_name="t")
    assert written.location == str(tmp_path / "t.bin") and written.value == {"a": 1}
    assert result.location == "{task_name}.bin"  # the original is untouched
    assert result.exists("{task_name}.bin", task_name="t") and not result.exists("other")
    assert result.read("t.bin").value == {"a": 1}
    assert result.read(written.location).value == {"a": 1}  # absolute locations override dir


def test_local_result_dir_rules(_isolated_home: Path, tmp_path: Path) -> None:
    assert LocalResult().dir == str(_isolated_home / "results")
    assert LocalResult(dir=_isolated_home / "flows").dir == str(_isolated_home / "results")
    assert LocalResult(dir=tmp_path / "elsewhere").dir == str(tmp_path / "elsewhere")
    assert not os.path.exists(LocalResult(dir=tmp_path / "lazy", validate_dir=False).dir)


def test_prefect_result_inline_json() -> None:
    result = PrefectResult()
    written = result.write([1, 2])
    assert written.location == "[1, 2]" and result.read("[1, 2]").value == [1, 2]
    assert result.exists("[1]") and not result.exists("{not json")
    with pytest.raises(TypeError, match="only supports JSONSerializer or DateTimeSerializer"):
        PrefectResult(serializer=PickleSerializer())


def test_constant_and_secret_results(monkeypatch: pytest.MonkeyPatch) -> None:
    constant = ConstantResult(value=5)
    assert constant.read("x") is constant and constant.exists("x")
    with pytest.raises(ValueError, match="Cannot write values to `ConstantResult` types."):
        constant.write(1)
    with pytest.raises(ValueError, match="Can't pass a serializer to a ConstantResult."):
        ConstantResult(serializer=JSONSerializer())
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__DB_PASSWORD", "hunter2-long")
    secret = SecretResult(location="DB_PASSWORD")
    assert secret.read("DB_PASSWORD").value == "hunter2-long"
    with pytest.raises(ValueError, match="SecretResults cannot be written to."):
        secret.write("x")
    with pytest.raises(ValueError, match="Can't pass a serializer to a SecretResult."):
        SecretResult(serializer=JSONSerializer())


def test_result_json_round_trip(tmp_path: Path) -> None:
    local = LocalResult(dir=tmp_path, location="x.bin")
    data = local.serialize()
    assert data["type"] == "LocalResult" and data["dir"] == str(tmp_path) and "serializer" not in data
    again = Result.deserialize(data)
    assert isinstance(again, LocalResult) and again.dir == str(tmp_path) and again.location == "x.bin"
    assert Result.deserialize(PrefectResult(location="[1]").serialize()).location == "[1]"
    assert Result.deserialize(NoResult.serialize()) is NoResult

    class MyResult(Result):
        pass

    custom = MyResult(location="loc").serialize()
    assert custom["type"] == "CustomResult"
    assert type(Result.deserialize(custom)) is Result


def test_serializers() -> None:
    pickle_ser = PickleSerializer()
    assert pickle_ser.deserialize(pickle_ser.serialize({"a": (1, 2)})) == {"a": (1, 2)}
    import base64

    assert pickle_ser.deserialize(base64.b64encode(pickle_ser.serialize([3]))) == [3]  # old base64 pickles
    when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert DateTimeSerializer().deserialize(DateTimeSerializer().serialize(when)) == when
    assert DateTimeSerializer().deserialize(b"2020-01-02T03:04:05Z") == when
    gz = CompressedSerializer(JSONSerializer(), format="gzip")
    assert gzip.decompress(gz.serialize({"k": "v" * 100})) == b'{"k": "' + b"v" * 100 + b'"}'
    assert gz.deserialize(gz.serialize([1])) == [1]


def test_compressed_serializer_errors() -> None:
    with pytest.raises(ValueError, match="but not both"):
        CompressedSerializer(JSONSerializer(), format="gzip", compress=gzip.compress)
    with pytest.raises(ValueError, match="You must specify either `format` or `compress`/`decompress`."):
        CompressedSerializer(JSONSerializer())
    with pytest.raises(ImportError, match="Compression module for 'nonexistent_codec' is not installed"):
        CompressedSerializer(JSONSerializer(), format="nonexistent_codec")
    with pytest.raises(ValueError, match="does not have 'compress' and 'decompress'"):
        CompressedSerializer(JSONSerializer(), format="json")


def test_pandas_serializer_csv_and_errors() -> None:
    import pandas as pd

    from prefect_storage.serializers import PandasSerializer

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    csv = PandasSerializer("csv", serialize_kwargs={"index": False})
    assert csv.serialize(frame).decode().splitlines() == ["a,b", "1,x", "2,y"]
    assert csv.deserialize(csv.serialize(frame)).equals(frame)
    assert csv == PandasSerializer("csv", serialize_kwargs={"index": False}) != PandasSerializer("csv")
    import cloudpickle

    assert cloudpickle.loads(cloudpickle.dumps(csv)).deserialize(b"a\n1\n")["a"].tolist() == [1]
    with pytest.raises(ValueError, match="Could not find deserialization methods for nonsense"):
        PandasSerializer("nonsense")


def test_local_result_dir_template_is_rendered_at_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = LocalResult(dir="${RESULTS_DIR}", location="out.bin")
    assert list(tmp_path.iterdir()) == []  # nothing created from the unrendered template
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "real"))
    written = result.write(7)
    assert written.location == str(tmp_path / "real" / "out.bin")
    assert result.serialize()["dir"] == "${RESULTS_DIR}"
    assert result.read("out.bin").value == 7
