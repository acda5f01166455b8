"""Finding flows in scripts and modules (classic selection rules and messages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_storage.exceptions import FlowDeserializationError
from prefect_storage.serialization import extract_flow_from_file, extract_flow_from_module

TWO_FLOWS = """
from prefect_storage import Flow
a = Flow("a")
b = Flow("b")
if __name__ == "__main__":
    raise SystemExit("main block must not run")
"""


def test_argument_rules(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Provide either `file_path` or `file_contents`."):
        extract_flow_from_file()
    with pytest.raises(TypeError, match="must be string or bytes"):
        extract_flow_from_file(file_contents=3)  # type: ignore[arg-type]


def test_selection_by_name_and_first(tmp_path: Path) -> None:
    assert extract_flow_from_file(file_contents=TWO_FLOWS).name == "a"
    assert extract_flow_from_file(file_contents=TWO_FLOWS, flow_name="b").name == "b"
    with pytest.raises(ValueError, match="Flow 'c' not found in file. Found flows:\n- 'a'\n- 'b'"):
        extract_flow_from_file(file_contents=TWO_FLOWS, flow_name="c")
    with pytest.raises(ValueError, match="No flows found in file."):
        extract_flow_from_file(file_contents="x = 1")


def test_file_path_sets_dunder_file(tmp_path: Path) -> None:
    script = tmp_path / "f.py"
    script.write_text("from prefect_storage import Flow\nflow = Flow(__file__)\n")
    assert extract_flow_from_file(file_path=script).name == str(script)


def test_non_utf8_script_has_a_clear_error() -> None:
    with pytest.raises(FlowDeserializationError, match="Save the script as UTF-8"):
        extract_flow_from_file(file_contents="x = 'caf\u00e9'\n".encode("latin-1"))


def test_declared_encoding_is_honoured() -> None:
    text = "# -*- coding: latin-1 -*-\nfrom prefect_storage import Flow\nflow = Flow('caf\u00e9')\n"
    assert extract_flow_from_file(file_contents=text.encode("latin-1")).name == "caf\u00e9"


def test_syntax_error_names_the_script(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("def oops(:\n")
    with pytest.raises(FlowDeserializationError, match="broken.py cannot be compiled"):
        extract_flow_from_file(file_path=script)


def test_missing_import_in_script_is_named() -> None:
    with pytest.raises(FlowDeserializationError, match="no_such_dependency_abc.*install it") as info:
        extract_flow_from_file(file_contents="import no_such_dependency_abc\n")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_module_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ps_extract_two.py").write_text(TWO_FLOWS)
    (tmp_path / "ps_extract_none.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="Multiple flows found in 'ps_extract_two', please provide `flow_name`"):
        extract_flow_from_module("ps_extract_two")
    assert extract_flow_from_module("ps_extract_two", flow_name="b").name == "b"
    with pytest.raises(ValueError, match="Failed to find flow 'zz' in 'ps_extract_two'"):
        extract_flow_from_module("ps_extract_two", flow_name="zz")
    with pytest.raises(ValueError, match="No flows found in 'ps_extract_none'"):
        extract_flow_from_module("ps_extract_none")
    with pytest.raises(ValueError, match="Failed to find flow at 'ps_extract_two:missing'"):
        extract_flow_from_module("ps_extract_two:missing")
