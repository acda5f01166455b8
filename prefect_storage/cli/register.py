"""``prefect-storage register``: the classic ``prefect register`` against the embedded registry."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

import click

from prefect_storage.cli.app import EXIT_FAILED, CliState
from prefect_storage.cli.collect import Source, expand_paths, load_module, load_script, module_file

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

WATCH_INTERVAL = 0.5


@click.command()
@click.option("--project", default="default", show_default=True, help="Project to register into (created if missing).")
@click.option("-p", "--path", "paths", multiple=True, help="A flow script, a folder of scripts or a glob (repeatable).")
@click.option("-m", "--module", "modules", multiple=True, help="An importable module or module.flow (repeatable).")
@click.option("-n", "--name", "names", multiple=True, help="Only register flows with this name (repeatable).")
@click.option("-l", "--label", "labels", multiple=True, help="A label to add to every flow (repeatable).")
@click.option("-f", "--force", is_flag=True, help="Register a new version even if the metadata is unchanged.")
@click.option("--watch", is_flag=True, help="Re-register a source whenever its file changes (Ctrl-C to stop).")
@click.pass_obj
def register(
    state: CliState,
    project: str,
    paths: tuple[str, ...],
    modules: tuple[str, ...],
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
    watch: bool,
) -> None:
    """Register the flows found in scripts and modules.

    Script flows without storage get Local(path=<script>, stored_as_script=True);
    module flows without storage get Module(<module>). Each storage is built once;
    a flow whose metadata did not change is skipped.
    """
    if not paths and not modules:
        raise click.UsageError("Give at least one --path or --module.")
    files = expand_paths(paths)
    if watch:
        _watch(state, files, modules, project, names, labels, force)
        return
    counts = register_sources(state, files, modules, project, names, labels, force)
    if counts["errored"]:
        sys.exit(EXIT_FAILED)


def register_sources(
    state: CliState,
    files: list[str],
    modules: tuple[str, ...] | list[str],
    project: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
) -> collections.Counter[str]:
    """One registration pass; prints per-flow lines and the summary, returns the counts."""
    counts: collections.Counter[str] = collections.Counter(registered=0, skipped=0, errored=0)
    sources: list[Source] = []
    for kind, loader, items in (("path", load_script, files), ("module", load_module, modules)):
        for item in items:
            click.echo(f"Collecting flows from {item}...")
            try:
                sources.append(loader(item))
            except click.ClickException:
                raise
            except Exception as exc:
                click.secho(f"  Error loading {kind} {item!r}: {exc!r}", fg="red")
                counts["errored"] += 1
    flows = [flow for source in sources for flow in source.flows]
    if names:
        missing = sorted(set(names) - {f.name for f in flows})
        if missing:
            raise click.ClickException("Failed to find the following flows:\n" + "\n".join(f"- {n}" for n in missing))
        flows = [f for f in flows if f.name in names]
    ready = _prepare(flows, labels, counts)
    built = _build_per_storage(ready, counts)
    for flow in built:
        _record_one(state, flow, project, force, counts)
    bar = "=" * 40
    click.echo(f"{bar}\n{counts['registered']} registered, {counts['skipped']} skipped, {counts['errored']} errored\n{bar}")
    return counts


def _prepare(flows: list[Flow], labels: tuple[str, ...], counts: collections.Counter[str]) -> list[Flow]:
    """Defaults and add_flow for every flow before any build (so shared storages hash stably)."""
    from prefect_storage.registry.register import add_to_storage, prepare_flow

    ready = []
    for flow in flows:
        try:
            prepare_flow(flow, labels)
            add_to_storage(flow)
        except Exception as exc:
            click.secho(f"Registering {flow.name!r}... Error\n  └── {exc}", fg="red")
            counts["errored"] += 1
        else:
            ready.append(flow)
    return ready


def _build_per_storage(flows: list[Flow], counts: collections.Counter[str]) -> list[Flow]:
    """``build()`` once per storage instance; a failed build errors every flow on it."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from prefect_storage.cli.output import console

    groups: dict[int, list[Flow]] = {}
    for flow in flows:
        groups.setdefault(id(flow.storage), []).append(flow)
    built: list[Flow] = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console(), transient=True,
    ) as progress:
        overall = progress.add_task("Building storage", total=len(groups))
        for group in groups.values():
            storage = group[0].storage
            progress.update(overall, description=f"Building `{storage.name}` storage...")
            click.echo(f"Building `{storage.name}` storage...")
            try:
                storage.build()
            except Exception as exc:
                for flow in group:
                    click.secho(f"Registering {flow.name!r}... Error\n  └── storage build failed: {exc}", fg="red")
                counts["errored"] += len(group)
            else:
                built.extend(group)
            progress.advance(overall)
    return built


def _record_one(state: CliState, flow: Flow, project: str, force: bool, counts: collections.Counter[str]) -> None:
    from prefect_storage.registry.register import record

    click.echo(f"Registering {flow.name!r}...", nl=False)
    try:
        registration = record(flow, state.registry, project, uuid.uuid4().hex if force else None)
    except Exception as exc:
        if _is_registry_outage(exc):
            raise
        click.secho(" Error", fg="red")
        click.echo(f"  └── {exc}")
        counts["errored"] += 1
        return
    if registration.created:
        click.secho(" Done", fg="green")
        click.echo(f"  └── ID: {registration.flow.id}\n  └── Version: {registration.flow.version}")
        counts["registered"] += 1
    else:
        click.secho(" Skipped (metadata unchanged)", fg="yellow")
        counts["skipped"] += 1


def _is_registry_outage(exc: BaseException) -> bool:
    from prefect_storage.registry.errors import SchemaVersionError, is_transient

    return is_transient(exc) or isinstance(exc, SchemaVersionError)


# -- --watch ------------------------------------------------------------------------------------


def _watch(
    state: CliState,
    files: list[str],
    modules: tuple[str, ...],
    project: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
) -> None:
    """Register everything once, then re-register a source in a fresh process whenever
    its file's mtime changes (polled every 0.5 s). Errors are reported, never fatal."""
    watched: dict[str, tuple[str, str]] = {path: ("--path", path) for path in files}
    for module in modules:
        origin = module_file(module)
        if origin:
            watched[origin] = ("--module", module)
        else:
            click.secho(f"Cannot find the file of module {module!r}; it is not watched.", fg="yellow")
    mtimes = {path: None for path in watched}
    click.echo(f"Watching {len(watched)} file(s) for changes (Ctrl-C to stop)...")
    try:
        while True:
            changed = []
            for path in watched:
                mtime = _mtime(path)
                if mtime != mtimes[path]:
                    mtimes[path] = mtime
                    changed.append(path)
            if changed:
                _register_in_subprocess(state, [watched[p] for p in changed], project, names, labels, force)
            time.sleep(WATCH_INTERVAL)
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _register_in_subprocess(
    state: CliState,
    sources: list[tuple[str, str]],
    project: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
) -> None:
    argv: list[Any] = [sys.executable, "-m", "prefect_storage.cli"]
    if state.registry_url:
        argv += ["--registry", state.registry_url]
    argv += ["register", "--project", project]
    for option, value in sources:
        argv += [option, value]
    for name in names:
        argv += ["--name", name]
    for label in labels:
        argv += ["--label", label]
    if force:
        argv.append("--force")
    result = subprocess.run(argv, check=False)
    if result.returncode:
        click.secho(f"Registration pass exited with {result.returncode}; still watching.", fg="yellow")
