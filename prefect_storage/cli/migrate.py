"""``prefect-storage migrate``: move classic Prefect 1.x code over to prefect_storage.

The ``migrate`` group is shared: other commands join it with
``migrate.add_command(cmd)`` (or ``@migrate.command()``) in their own module,
and ``cli/__init__.py`` registers the group once.

``migrate imports PATH... [--write]`` exit codes:

=====  ==========================================================================
0      every classic import found can be rewritten (or there was none); the diff
       was shown, or with ``--write`` the files were written
1      some imports (or uses like ``prefect.Client()``) name modules or classes
       prefect_storage does not provide (listed as ``file:line``; such import
       statements are left unchanged, the rest is rewritten), or a file is not
       valid Python
2      usage error: no such path, unknown option
=====  ==========================================================================
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click

from prefect_storage.cli.app import EXIT_FAILED

_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


@click.group()
def migrate() -> None:
    """Move classic Prefect 1.x code to prefect_storage."""


def _python_files(paths: tuple[str, ...]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
            for name in sorted(files):
                if name.endswith(".py"):
                    yield Path(root) / name


@migrate.command("imports")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--write", is_flag=True, help="Write the rewritten files (default: only show a unified diff).")
def imports(paths: tuple[str, ...], write: bool) -> None:
    """Rewrite `prefect` imports to `prefect_storage` in PATHS (files or folders).

    Shows a unified diff; `--write` changes the files in place. Formatting and
    comments are kept. Imports of modules or names that prefect_storage does not
    provide are listed with file:line and left unchanged. Exit code 0 when all
    could be rewritten, 1 when some could not (or a file is not valid Python).
    """
    import libcst

    from prefect_storage.migration.imports import migrate_source, unified_diff

    problems = 0
    changed = 0
    for path in _python_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
            result = migrate_source(text)
        except (UnicodeDecodeError, libcst.ParserSyntaxError) as exc:
            click.echo(f"{path}: not rewritten, cannot parse it: {str(exc).splitlines()[0]}", err=True)
            problems += 1
            continue
        for item in result.not_provided:
            click.echo(f"{path}:{item.line}: not provided: {item.describe()}", err=True)
            problems += 1
        if not result.changed:
            continue
        changed += 1
        if write:
            path.write_text(result.source, encoding="utf-8")
            click.echo(f"rewrote {path}", err=True)
        else:
            click.echo(unified_diff(result, str(path)), nl=False)
    verb = "rewrote" if write else "would rewrite"
    click.echo(f"{verb} {changed} file(s); {problems} import(s) not provided or unreadable", err=True)
    if problems:
        raise SystemExit(EXIT_FAILED)
