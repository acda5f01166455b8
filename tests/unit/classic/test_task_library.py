"""The classic task library: ShellTask (real subprocesses), secret tasks over the secret
chain, file tasks on a real folder."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest

from prefect_storage import Flow, task
from prefect_storage.engine.signals import FAIL
from prefect_storage.tasks.files import Copy, Glob, Move, Remove, Unzip, Zip
from prefect_storage.tasks.secrets import EnvVarSecret, PrefectSecret, SecretBase
from prefect_storage.tasks.shell import ShellTask


def _result(flow: Flow, state, name: str):
    (t,) = flow.get_tasks(name=name)
    return state.result[t]


# ----------------------------------------------------------------------------- ShellTask


@pytest.mark.parametrize(
    ("command", "return_all", "expected"),
    [
        ("echo one; echo two", False, "two"),
        ("echo one; echo two", True, ["one", "two"]),
        ("true", False, None),
        ("echo err 1>&2", False, "err"),
    ],
)
def test_shell_output(command: str, return_all: bool, expected: object) -> None:
    assert ShellTask(return_all=return_all).run(command=command) == expected


def test_shell_helper_script_env_and_defaults() -> None:
    shell = ShellTask(command="echo $X $Y", helper_script="X=hi", env={"Y": "yo"})
    assert shell.run() == "hi yo"
    assert shell.run(command="echo $Y-$Y") == "yo-yo"
    with pytest.raises(TypeError, match="run\\(\\) missing required argument: 'command'"):
        ShellTask().run()


def test_shell_failure_is_a_fail_signal_carrying_the_output(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(FAIL, match="Command failed with exit code 3") as info:
        ShellTask(log_stderr=True, return_all=True).run(command="echo x; echo oops >&2; exit 3")
    assert info.value.state.result == ["x", "oops"]
    assert "Command failed with exit code 3" in caplog.text and "x\noops" in caplog.text

    with Flow("shell-fails") as flow:
        ShellTask(name="bad")(command="echo last; exit 2")
    state = flow.run()
    bad = _result(flow, state, "bad")
    assert state.is_failed() and bad.is_failed()
    assert bad.message == "Command failed with exit code 2" and bad.result == "last"


def test_shell_stream_output_levels(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="prefect_storage")
    ShellTask(stream_output="DEBUG").run(command="echo streamed-line")
    assert any(r.levelno == logging.DEBUG and r.getMessage() == "streamed-line" for r in caplog.records)
    assert ShellTask(stream_output=True).stream_output == logging.INFO
    with pytest.raises(TypeError, match="'stream_output': LOUD is not a valid log level"):
        ShellTask(stream_output="LOUD")


def test_shell_in_a_flow_with_other_shell() -> None:
    with Flow("shells") as flow:
        words = ShellTask(name="words", return_all=True, shell="sh")(command="printf 'a\\nb\\n'")

        @task
        def count(lines):
            return len(lines)

        n = count(words)
    state = flow.run()
    assert state.is_successful() and state.result[n].result == 2


# ----------------------------------------------------------------------------- secrets


def test_prefect_secret_reads_the_chain_and_decodes_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONFIG", '{"host": "db", "port": 5432}')
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__TOKEN", "t0k3n-value")
    assert PrefectSecret("DB_CONFIG").run() == {"host": "db", "port": 5432}
    assert PrefectSecret().run(name="TOKEN") == "t0k3n-value"
    assert PrefectSecret("TOKEN").name == "TOKEN"
    with pytest.raises(ValueError, match="A secret name must be provided."):
        PrefectSecret().run()
    with pytest.raises(ValueError, match="'MISSING_SECRET' was not found"):
        PrefectSecret("MISSING_SECRET").run()


def test_secret_tasks_are_never_checkpointed() -> None:
    secret = PrefectSecret("X")
    assert secret.checkpoint is False
    assert type(secret.result).__name__ == "SecretResult"
    with pytest.raises(ValueError, match="Result types for Secrets are not configurable."):
        SecretBase(result=object())


def test_env_var_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT_NUMBER", "42")
    assert EnvVarSecret("PORT_NUMBER").run() == "42"
    assert EnvVarSecret("PORT_NUMBER", cast=int).run() == 42
    assert EnvVarSecret("NOT_SET_ANYWHERE").run() is None
    with pytest.raises(ValueError, match="Environment variable not set: NOT_SET_ANYWHERE"):
        EnvVarSecret("NOT_SET_ANYWHERE", raise_if_missing=True).run()


def test_secret_values_flow_into_tasks_but_not_into_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("API_KEY_FOR_TEST", "sk-live-abcdef123456")

    @task
    def use(key):
        import prefect_storage

        prefect_storage.context.get("logger").info("using key %s", key)
        return len(key)

    with Flow("secret-flow") as flow:
        n = use(PrefectSecret("API_KEY_FOR_TEST"))
    caplog.set_level(logging.INFO)
    state = flow.run()
    assert state.is_successful() and state.result[n].result == 20
    assert "sk-live-abcdef123456" not in caplog.text


# ----------------------------------------------------------------------------- files


def test_copy_move_remove_glob(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("1,2\n")
    (tmp_path / "in" / "b.txt").write_text("x")
    assert Copy(source_path=tmp_path / "in" / "a.csv").run(target_path=tmp_path / "a2.csv") == tmp_path / "a2.csv"
    assert Copy().run(source_path=str(tmp_path / "in"), target_path=str(tmp_path / "tree")) == tmp_path / "tree"
    assert (tmp_path / "tree" / "b.txt").read_text() == "x"
    assert Move().run(source_path=tmp_path / "a2.csv", target_path=tmp_path / "moved.csv") == tmp_path / "moved.csv"
    assert not (tmp_path / "a2.csv").exists()
    assert sorted(p.name for p in Glob(path=tmp_path / "in").run()) == ["a.csv", "b.txt"]
    assert [p.name for p in Glob(path=tmp_path, pattern="**/*.csv").run(pattern="**/*.csv") if p.parent == tmp_path] == ["moved.csv"]
    Remove(path=tmp_path / "moved.csv").run()
    assert not (tmp_path / "moved.csv").exists()
    with pytest.raises(ValueError, match=r"Source path \(.*nope\) not found"):
        Copy().run(source_path=tmp_path / "nope", target_path=tmp_path / "x")
    with pytest.raises(ValueError, match="No `path` provided."):
        Remove().run()
    with pytest.raises(ValueError, match="No `target_path` provided."):
        Move(source_path=tmp_path / "in").run()


def test_zip_and_unzip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f.txt").write_text("hello")
    (tmp_path / "top.txt").write_text("top")
    archive = tmp_path / "out.zip"
    Zip(source_path=[src, tmp_path / "top.txt"], zip_path=archive, compression_method="bzip2").run()
    assert sorted(zipfile.ZipFile(archive).namelist()) == ["src/sub/f.txt", "top.txt"]
    out = Unzip(zip_path=archive).run(extract_dir=tmp_path / "out")
    assert (out / "src" / "sub" / "f.txt").read_text() == "hello"
    with pytest.raises(ValueError, match="Compression method gzip is not supported!"):
        Zip(compression_method="gzip")
    with pytest.raises(TypeError, match="is not a zip file"):
        Unzip().run(zip_path=tmp_path / "top.txt")


def test_file_tasks_in_a_flow(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1")
    with Flow("files") as flow:
        copied = Copy(name="copy")(source_path=str(tmp_path / "a.csv"), target_path=str(tmp_path / "b.csv"))
        found = Glob(name="glob")(path=str(tmp_path), pattern="*.csv", upstream_tasks=[copied])
    state = flow.run()
    assert state.is_successful()
    assert sorted(p.name for p in state.result[found].result) == ["a.csv", "b.csv"]


def test_powershell_task_is_a_shell_task_with_a_ps1_script() -> None:
    from prefect_storage.tasks.powershell.powershell import PowershellTask as FromClassicPath
    from prefect_storage.tasks.shell import PowershellTask

    assert FromClassicPath is PowershellTask
    assert PowershellTask().shell == "pwsh"  # classic default: PowerShell 6+
    # any shell runs the script file; `$0` shows it is a .ps1 file as PowerShell needs
    out = PowershellTask(shell="sh", return_all=True).run(command='echo "$0"; echo done')
    assert out[0].endswith(".ps1") and out[-1] == "done"
    with pytest.raises(FAIL, match="exit code 3"):
        PowershellTask(shell="sh").run(command="exit 3")


def test_string_formatter_and_jinja_template_read_upstream_values_and_the_context() -> None:
    from prefect_storage import Parameter
    from prefect_storage.tasks.templates import JinjaTemplate, StringFormatter

    greet = StringFormatter(name="greeting", template="Hi {name}! This is {flow_name}.")
    render = JinjaTemplate(template="{% for n in names %}<{{ n }}>{% endfor %} in {{ flow_name }}")
    with Flow("templates") as flow:
        who = Parameter("who", default="Marvin")
        text = greet(name=who)
        html = render(names=["a", "b"])
        other = greet(template="{x}-{x}", x=2)
    state = flow.run()
    assert state.result[text].result == "Hi Marvin! This is templates."
    assert state.result[html].result == "<a><b> in templates"
    assert state.result[other].result == "2-2"
    with pytest.raises(KeyError, match="missing"):
        StringFormatter(template="{missing}").run()


def test_sqlite_tasks_create_load_and_query(tmp_path: Path) -> None:
    from prefect_storage.tasks.database.sqlite import SQLiteQuery, SQLiteScript

    db = str(tmp_path / "etl.db")
    create = SQLiteScript(db=db, script="CREATE TABLE t (n INTEGER, s TEXT); INSERT INTO t VALUES (1, 'a');")
    insert = SQLiteQuery(db=db, query="INSERT INTO t VALUES (?, ?)", data=(2, "b"))
    select = SQLiteQuery(db=db, query="SELECT n, s FROM t ORDER BY n")
    with Flow("sqlite") as flow:
        created = create()
        inserted = insert(upstream_tasks=[created])
        rows = select(upstream_tasks=[inserted])
    state = flow.run()
    assert state.is_successful(), state.result
    assert state.result[rows].result == [(1, "a"), (2, "b")]  # the INSERT was committed
    with pytest.raises(ValueError, match="tuple if query contains parametrized values"):
        SQLiteQuery(db=db, query="SELECT * FROM t WHERE n = ?").run()
    with pytest.raises(ValueError, match="The db must be specified"):
        SQLiteScript(script="SELECT 1").run()
