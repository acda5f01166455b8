"""``prefect-storage migrate imports``: libcst rewrite of classic imports, diff / --write,
names that are not provided reported with file:line and left unchanged."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefect_storage.cli import cli
from prefect_storage.migration.imports import migrate_source

ETL = textwrap.dedent(
    '''
    """Nightly ETL (a classic Prefect 1.x script)."""
    import datetime

    import prefect  # the engine
    from prefect import Flow, Parameter, task, unmapped
    from prefect.engine.signals import SKIP
    from prefect.run_configs import (
        LocalRun,  # on the laptop
        KubernetesRun,
    )
    from prefect.schedules import IntervalSchedule
    from prefect.storage import Local
    from prefect.tasks.shell import ShellTask
    import prefect.engine.state


    @task(max_retries=2, retry_delay=datetime.timedelta(seconds=1))
    def extract(n):
        logger = prefect.context.get("logger")
        logger.info("extracting %s", n)
        return list(range(n))


    @task
    def check(x, state=prefect.engine.state.Success):
        if x < 0:
            raise SKIP("negative")
        return x


    schedule = IntervalSchedule(interval=datetime.timedelta(hours=1))

    with Flow("etl", schedule, storage=Local(), run_config=LocalRun(labels=["dev"])) as flow:
        n = Parameter("n", default=3)
        check.map(extract(n), unmapped(n))
    '''
)


def test_rewrites_imports_and_uses_keeping_comments_and_layout() -> None:
    result = migrate_source(ETL)
    assert result.not_provided == []
    expected = (
        ETL.replace("import prefect  # the engine", "import prefect_storage  # the engine")
        .replace("from prefect import", "from prefect_storage import")
        .replace("from prefect.", "from prefect_storage.")
        .replace("import prefect.engine.state", "import prefect_storage.engine.state")
        .replace("prefect.context.get", "prefect_storage.context.get")
        .replace("state=prefect.engine", "state=prefect_storage.engine")
    )
    assert result.source == expected
    compile(result.source, "etl.py", "exec")
    again = migrate_source(result.source)
    assert not again.changed  # idempotent


def test_alias_and_unrelated_names_are_left_alone() -> None:
    source = textwrap.dedent(
        """
        import prefect as pf
        import prefectlib
        from prefect_storage import Flow
        from . import prefect
        prefect_count = 1

        def f(prefect):
            return prefect.x  # a parameter, not the module
        """
    )
    result = migrate_source(source)
    assert "import prefect_storage as pf" in result.source
    assert "import prefectlib" in result.source
    assert "from . import prefect" in result.source
    assert "return prefect.x" in result.source
    assert result.source.count("prefect_storage") == 2


def test_names_not_provided_are_reported_with_lines_and_left_unchanged() -> None:
    source = textwrap.dedent(
        """\
        from prefect import Flow, Client
        from prefect.tasks.snowflake import SnowflakeQuery
        from prefect.tasks.notifications import SlackTask, PushbulletTask
        from prefect.tasks.shell import ShellTask
        import prefect.tasks.dbt
        """
    )
    result = migrate_source(source)
    found = {(p.line, p.module, p.name) for p in result.not_provided}
    assert found == {
        (1, "prefect", "Client"),
        (2, "prefect.tasks.snowflake", None),
        (3, "prefect.tasks.notifications", "PushbulletTask"),
        (5, "prefect.tasks.dbt", None),
    }
    lines = result.source.splitlines()
    assert lines[0] == "from prefect import Flow, Client"
    assert lines[1] == "from prefect.tasks.snowflake import SnowflakeQuery"
    assert lines[2] == "from prefect.tasks.notifications import SlackTask, PushbulletTask"
    assert lines[3] == "from prefect_storage.tasks.shell import ShellTask"
    assert lines[4] == "import prefect.tasks.dbt"
    assert all("not provided by prefect_storage" in p.reason for p in result.not_provided if p.name != "Client")


def _tree(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "flows").mkdir(parents=True)
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / "flows" / "etl.py").write_text(ETL)
    (project / "flows" / "plain.py").write_text("import os\n")
    (project / ".venv" / "lib" / "prefect_dep.py").write_text("import prefect\n")
    return project


def test_cli_shows_a_diff_and_writes_nothing_by_default(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    result = CliRunner().invoke(cli, ["migrate", "imports", str(project)])
    assert result.exit_code == 0, result.output
    assert f"--- a/{project}/flows/etl.py" in result.stdout
    assert "-from prefect import Flow, Parameter, task, unmapped" in result.stdout
    assert "+from prefect_storage import Flow, Parameter, task, unmapped" in result.stdout
    assert ".venv" not in result.stdout  # hidden folders are skipped
    assert (project / "flows" / "etl.py").read_text() == ETL


def test_cli_write_rewrites_files(tmp_path: Path) -> None:
    project = _tree(tmp_path)
    result = CliRunner().invoke(cli, ["migrate", "imports", "--write", str(project / "flows")])
    assert result.exit_code == 0, result.output
    text = (project / "flows" / "etl.py").read_text()
    assert "from prefect_storage.run_configs import (\n    LocalRun,  # on the laptop\n" in text
    assert "rewrote 1 file(s)" in result.stderr
    assert CliRunner().invoke(cli, ["migrate", "imports", str(project / "flows")]).stdout == ""


def test_cli_exit_code_1_lists_what_is_not_provided(tmp_path: Path) -> None:
    script = tmp_path / "load.py"
    script.write_text("from prefect import Flow\nfrom prefect.tasks.snowflake import SnowflakeQuery\n")
    broken = tmp_path / "broken.py"
    broken.write_text("import prefect\ndef (:\n")
    result = CliRunner().invoke(cli, ["migrate", "imports", "--write", str(script), str(broken)])
    assert result.exit_code == 1
    assert f"{script}:2: not provided: prefect.tasks.snowflake" in result.stderr
    assert f"{broken}: not rewritten, cannot parse it" in result.stderr
    assert script.read_text() == "from prefect_storage import Flow\nfrom prefect.tasks.snowflake import SnowflakeQuery\n"


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["migrate", "imports", str(tmp_path / "missing")]).exit_code == 2
    assert CliRunner().invoke(cli, ["migrate", "imports"]).exit_code == 2


@pytest.mark.parametrize(
    ("module", "named"),
    [
        ("prefect_storage.tasks.snowflake", "prefect_storage.tasks.snowflake"),
        ("prefect_storage.client.client", "prefect_storage.client.client"),
        ("prefect_storage.tasks.aws.s3", "prefect_storage.tasks.aws"),  # the first missing package
    ],
)
def test_not_provided_modules_raise_a_clear_import_error(module: str, named: str) -> None:
    import importlib

    with pytest.raises(ImportError, match=rf"{named} \(prefect\..*\) is not provided by prefect_storage") as info:
        importlib.import_module(module)
    assert isinstance(info.value, ModuleNotFoundError)


def test_not_provided_names_raise_a_clear_import_error() -> None:
    with pytest.raises(ImportError, match=r"prefect_storage.tasks.notifications.PushbulletTask .* is not provided"):
        from prefect_storage.tasks.notifications import PushbulletTask  # noqa: F401
    from prefect_storage import Client  # importable, so a script that only imports it runs
    from prefect_storage.client import Client as ClientAgain

    assert Client is ClientAgain
    with pytest.raises(ImportError, match=r"prefect_storage.Client .* is not provided"):
        Client()
    with pytest.raises(ModuleNotFoundError, match="No module named 'prefect_storage.no_such_thing'"):
        import prefect_storage.no_such_thing  # noqa: F401


TRIAL = Path(__file__).resolve().parents[2] / "classic_scripts"


@pytest.mark.parametrize("script", sorted(p.name for p in TRIAL.glob("*.py")))
def test_the_trial_scripts_come_back_from_their_classic_form(script: str) -> None:
    """Each trial script, turned back into its classic form, migrates to exactly itself."""
    swapped = (TRIAL / script).read_text()
    classic = swapped.replace("prefect_storage", "prefect")
    result = migrate_source(classic)
    assert result.not_provided == []
    assert result.source == swapped


def test_uses_of_names_not_provided_are_reported_but_rewritten() -> None:
    source = textwrap.dedent(
        """\
        import prefect

        def f():
            client = prefect.Client()
            logger = prefect.context.get("logger")
            name = prefect.context.flow_name
            done = prefect.engine.state.Success()
            return prefect.tasks.snowflake.SnowflakeQuery, prefect.engine.state.Nope
        """
    )
    result = migrate_source(source)
    assert "import prefect_storage\n" in result.source and "prefect_storage.context.flow_name" in result.source
    found = {(p.line, p.module, p.name) for p in result.not_provided}
    assert found == {
        (4, "prefect", "Client"),
        (8, "prefect.tasks", "snowflake"),
        (8, "prefect.engine.state", "Nope"),
    }
